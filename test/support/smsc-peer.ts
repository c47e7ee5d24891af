import smpp from 'smpp';

export interface Submitted {
  from: string;
  to: string;
  coding: number;
  parts: number;
  text: string;
  messageId: string;
  session: smpp.Session;
}

/**
 * An SMSC on loopback for tests, built on the npm `smpp` package: answers
 * binds (system_id "tvpay", password "secret") and enquire_link, takes
 * submit_sm (reassembling concatenated parts), and can send receipts and
 * phones' SMS as deliver_sm, or drop every link.
 */
export async function startSmsc(port: number) {
  const sessions = new Set<smpp.Session>();
  const bound = new Set<smpp.Session>();
  const submitted: Submitted[] = [];
  const partial = new Map<string, string[]>();
  let counter = 0;
  let binds = 0;
  let unbinds = 0;

  const server = smpp.createServer((session) => {
    sessions.add(session);
    session.on('error', () => undefined);
    session.on('close', () => {
      sessions.delete(session);
      bound.delete(session);
    });
    session.on('bind_transceiver', (pdu: smpp.PDU) => {
      if (pdu.system_id !== 'tvpay' || pdu.password !== 'secret') {
        session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
        session.close();
        return;
      }
      binds++;
      bound.add(session);
      session.send(pdu.response({ system_id: 'test-smsc' }));
    });
    session.on('enquire_link', (pdu: smpp.PDU) => session.send(pdu.response()));
    session.on('unbind', (pdu: smpp.PDU) => {
      unbinds++;
      session.send(pdu.response());
      session.close();
    });
    session.on('deliver_sm_resp', () => undefined);
    session.on('submit_sm', (pdu: smpp.PDU) => {
      const messageId = `M${++counter}`;
      session.send(pdu.response({ message_id: messageId }));
      const sm = pdu.short_message ?? { message: '' };
      const text = typeof sm.message === 'string' ? sm.message : sm.message.toString('latin1');
      const concat = sm.udh?.find((u) => u[0] === 0x00);
      const base = {
        from: String(pdu.source_addr),
        to: String(pdu.destination_addr),
        coding: Number(pdu.data_coding),
        messageId,
        session,
      };
      if (!concat) {
        submitted.push({ ...base, parts: 1, text });
        return;
      }
      const [, , ref, total, seq] = concat;
      const key = `${base.to}:${ref}`;
      const got = partial.get(key) ?? new Array<string>(total!).fill('');
      got[seq! - 1] = text;
      partial.set(key, got);
      if (got.every((p) => p !== '')) {
        partial.delete(key);
        submitted.push({ ...base, parts: total!, text: got.join('') });
      }
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));

  const deliver = (session: smpp.Session, fields: Record<string, unknown>) =>
    new Promise<void>((resolve) => session.deliver_sm(fields, () => resolve()));

  return {
    submitted,
    binds: () => binds,
    unbinds: () => unbinds,
    boundNow: () => bound.size,
    /** A delivery receipt ("id:… stat:…") on the link that submitted the message. */
    receipt: (s: Submitted, stat: 'DELIVRD' | 'UNDELIV') =>
      deliver(s.session, {
        source_addr: s.to,
        destination_addr: s.from,
        esm_class: smpp.ESM_CLASS.MC_DELIVERY_RECEIPT,
        short_message: `id:${s.messageId} sub:001 dlvrd:${stat === 'DELIVRD' ? '001' : '000'} submit date:2611271200 done date:2611271201 stat:${stat} err:000 text:`,
      }),
    /** A phone's SMS to a number, on a bound link. */
    mo: (from: string, to: string, text: string) =>
      deliver([...bound][0]!, { source_addr: from, destination_addr: to, short_message: text }),
    dropAll: () => {
      for (const s of sessions) s.destroy();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.destroy();
        server.close(() => r());
      }),
  };
}
