import smpp from 'smpp';
import type { Log } from '../lib/log.ts';
import type { OutgoingSms, SmsGateway } from './gateway.ts';
import { splitSegments } from './segments.ts';
import { phoneDigits } from '../lib/phone.ts';

export interface SmppOptions {
  /** `smpp://system_id:password@host:port` */
  url: string;
  /** At most this many submit_sm awaiting their response at once (the SMSC's window). */
  window?: number;
  enquireLinkMs?: number;
  log: Log;
  /** A phone's SMS (deliver_sm that is not a receipt). */
  onMessage: (sms: { from: string; to: string; text: string }) => Promise<void>;
  /** A delivery receipt, by the SMSC's message id (which send() returned as gatewayId). */
  onReceipt: (gatewayId: string, status: 'delivered' | 'failed') => Promise<void>;
}

const UCS2 = 0x08;
const DELIVERED = new Set(['DELIVRD', 'ACCEPTD']);
const FAILED = new Set(['UNDELIV', 'REJECTD', 'EXPIRED', 'DELETED', 'UNKNOWN']);

/** Splits a text into SMS parts (segments.ts), with the data coding they go in: 0 for GSM-7, 8 for UCS-2. */
export function smsParts(text: string): { coding: 0 | 8; parts: string[] } {
  const { encoding, parts } = splitSegments(text);
  return { coding: encoding === 'gsm7' ? 0 : UCS2, parts };
}

/** Parses an SMPP delivery receipt text: "id:… sub:… dlvrd:… … stat:DELIVRD err:…". */
export function parseReceipt(text: string): { id: string; stat: string } | null {
  const id = /id:(\S+)/i.exec(text)?.[1];
  const stat = /stat:(\S+)/i.exec(text)?.[1];
  return id && stat ? { id, stat: stat.toUpperCase() } : null;
}

/**
 * Sends and receives SMS over SMPP 3.4 as a transceiver: binds at start and
 * rebinds with backoff after a dropped link, keeps the link alive with
 * enquire_link, submits with the right data coding (UCS-2 for Chinese) and
 * concatenation for long texts, asks for receipts, limits the submits in
 * flight to a window, and unbinds cleanly on shutdown.
 */
export class SmppSmsGateway implements SmsGateway {
  private session: smpp.Session | undefined;
  private bound = false;
  private stopped = false;
  private backoffMs = 250;
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly boundWaiters: Array<() => void> = [];
  private concatRef = Math.floor(Math.random() * 256);
  private readonly target: { url: string; systemId: string; password: string };

  constructor(private readonly options: SmppOptions) {
    const u = new URL(options.url);
    this.target = {
      url: `smpp://${u.hostname}:${u.port || 2775}`,
      systemId: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
    };
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const session = smpp.connect({
      url: this.target.url,
      auto_enquire_link_period: this.options.enquireLinkMs ?? 30_000,
    });
    this.session = session;
    session.on('connect', () => {
      session.bind_transceiver(
        { system_id: this.target.systemId, password: this.target.password, interface_version: 0x34 },
        (pdu: smpp.PDU) => {
          if (pdu.command_status !== 0) {
            this.options.log.error({ status: pdu.command_status }, 'the SMSC refused the bind');
            session.close();
            return;
          }
          this.bound = true;
          this.backoffMs = 250;
          this.options.log.info('bound to the SMSC as a transceiver');
          for (const w of this.boundWaiters.splice(0)) w();
        },
      );
    });
    session.on('deliver_sm', (pdu: smpp.PDU) => void this.onDeliver(session, pdu));
    session.on('enquire_link', (pdu: smpp.PDU) => session.send(pdu.response()));
    session.on('unbind', (pdu: smpp.PDU) => {
      session.send(pdu.response());
      session.close();
    });
    session.on('error', (err: Error) => this.options.log.warn({ err: err.message }, 'SMPP link error'));
    session.on('close', () => {
      if (this.session !== session) return;
      this.bound = false;
      this.session = undefined;
      if (this.stopped) return;
      const wait = this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
      this.options.log.warn({ retryInMs: wait }, 'SMPP link dropped; rebinding');
      setTimeout(() => this.connect(), wait).unref();
    });
  }

  private async onDeliver(session: smpp.Session, pdu: smpp.PDU): Promise<void> {
    session.send(pdu.response());
    const message = pdu.short_message?.message ?? pdu.message_payload?.message ?? '';
    const text = typeof message === 'string' ? message : Buffer.from(message).toString('latin1');
    try {
      if (pdu.esm_class & smpp.ESM_CLASS.MC_DELIVERY_RECEIPT) {
        const receipt = parseReceipt(text);
        if (!receipt) return;
        if (DELIVERED.has(receipt.stat)) await this.options.onReceipt(receipt.id, 'delivered');
        else if (FAILED.has(receipt.stat)) await this.options.onReceipt(receipt.id, 'failed');
        return;
      }
      await this.options.onMessage({ from: String(pdu.source_addr), to: String(pdu.destination_addr), text });
    } catch (err) {
      this.options.log.error({ err }, 'could not take an SMS from the SMSC');
    }
  }

  private whenBound(timeoutMs: number): Promise<void> {
    if (this.bound) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('not bound to the SMSC')), timeoutMs);
      this.boundWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private async slot(): Promise<void> {
    if (this.inFlight < (this.options.window ?? 10)) {
      this.inFlight++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight++;
  }

  private release(): void {
    this.inFlight--;
    this.waiting.shift()?.();
  }

  async send(sms: OutgoingSms): Promise<{ gatewayId?: string }> {
    await this.whenBound(5000);
    const { coding, parts } = smsParts(sms.text);
    const ref = (this.concatRef = (this.concatRef + 1) % 256);
    let lastId: string | undefined;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const short_message =
        parts.length === 1
          ? coding === UCS2
            ? Buffer.from(part, 'utf16le').swap16()
            : part
          : {
              udh: Buffer.from([0x05, 0x00, 0x03, ref, parts.length, i + 1]),
              message: coding === UCS2 ? Buffer.from(part, 'utf16le').swap16() : part,
            };
      const id = await this.submit({
        source_addr: sms.from,
        source_addr_ton: sms.from.length <= 8 ? 3 : 1,
        destination_addr: phoneDigits(sms.to),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        data_coding: coding,
        registered_delivery: i === parts.length - 1 ? 1 : 0,
        short_message,
      });
      lastId = id;
    }
    // The receipt is asked for on the last part, so its id is the one a receipt names.
    return { gatewayId: lastId };
  }

  private async submit(fields: Record<string, unknown>): Promise<string> {
    await this.slot();
    try {
      const session = this.session;
      if (!session || !this.bound) throw new Error('not bound to the SMSC');
      return await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('submit_sm timed out')), 10_000);
        session.submit_sm(fields, (pdu: smpp.PDU) => {
          clearTimeout(timer);
          if (pdu.command_status === 0) resolve(String(pdu.message_id));
          else reject(new Error(`submit_sm refused with status ${pdu.command_status}`));
        });
      });
    } finally {
      this.release();
    }
  }

  /** Unbinds and closes the link (graceful shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    const session = this.session;
    if (!session) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => session.close(done), 2000);
      if (this.bound) session.unbind({}, () => session.close(done));
      else session.close(done);
    });
  }
}
