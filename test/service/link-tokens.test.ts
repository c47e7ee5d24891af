import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LinkTokens } from '../../src/backend/core/link-tokens.ts';
import { sealLegacyLinkTokens } from '../../src/backend/orders/order-store.ts';
import { eventually } from '../support/eventually.ts';
import { newTv } from '../support/flows.ts';
import { testSystem, type TestSystem } from '../support/system.ts';

const UNBOUND = '8613600136000';
const logs: string[] = [];
let sys: TestSystem;
before(async () => {
  sys = await testSystem({ TVPAY_LIMIT_PAYER_PER_PHONE: '1000', TVPAY_LIMIT_CODES_PER_PHONE: '1000' }, { logs });
});
after(() => sys.close());

/**
 * Files of the data dir, in its folders too (the development rails' keys), that hold the token's bytes. The development carrier's database is left out: it
 * is the simulated phone's inbox (the link SMS is meant to be there), not tvpay's storage; with Kannel it
 * does not exist.
 */
const filesHolding = (token: string) =>
  (readdirSync(sys.dir, { recursive: true }) as string[])
    .filter((f) => !f.startsWith('carrier.db') && statSync(join(sys.dir, f)).isFile())
    .filter((f) => readFileSync(join(sys.dir, f)).includes(Buffer.from(token)));

describe('link tokens at rest', () => {
  it('keeps no checkout link token in any file, stored idempotency answer or log line, while the TV can still show it', async () => {
    const seen = (await sys.walk.inbox(UNBOUND)).length;
    const orderId = (
      await sys.tv('POST', '/v1/orders', { productId: 'vip-month' }, { 'idempotency-key': 'lt-1' })
    ).json().orderId as string;
    const payer = await sys.tv(
      'POST',
      `/v1/orders/${orderId}/payer`,
      { phone: '13600136000' },
      { 'idempotency-key': 'lt-2' },
    );
    assert.equal(payer.statusCode, 202, payer.body);
    const payUrl = String(payer.json().payUrl);
    const token = payUrl.split('/pay/')[1]!;
    assert.ok(token.length >= 22, payUrl);
    const sms = await eventually(async () => {
      const inbox = await sys.walk.inbox(UNBOUND);
      assert.ok(inbox.length > seen, 'the link SMS arrived');
      return inbox[inbox.length - 1]!;
    });
    assert.ok(sms.text.includes(payUrl), 'the SMS carries the link the TV shows');
    // The TV asks again and again (the QR code): the same link each time, and it opens the checkout page.
    for (let i = 0; i < 2; i++) assert.equal((await sys.tv('GET', `/v1/orders/${orderId}`)).json().payUrl, payUrl);
    assert.equal((await sys.tv('GET', `/v1/orders/${orderId}/pay-qr.svg`)).statusCode, 200);
    assert.equal((await sys.payserver.app.inject({ url: `/pay/${token}?lang=en` })).statusCode, 200);
    const replay = await sys.tv(
      'POST',
      `/v1/orders/${orderId}/payer`,
      { phone: '13600136000' },
      { 'idempotency-key': 'lt-2' },
    );
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.ok(!replay.body.includes(token), 'a replayed answer does not show the link again');

    const answers = await sys.backend.db.selectFrom('idempotency_keys').select('response_body').execute();
    assert.ok(answers.length >= 2, 'answers.length >= 2');
    assert.ok(!answers.some((a) => a.response_body?.includes(token)), 'no stored idempotency answer holds it');
    assert.deepEqual(filesHolding(token), [], 'no file of the data dir holds it');
    assert.ok(!logs.some((l) => l.includes(token)), 'no log line holds it');
  });

  it('seals the plain token an open order kept from before, keeping its link, and drops an ended one’s', async () => {
    const open = (await sys.tv('POST', '/v1/orders', { productId: 'vip-month' })).json().orderId as string;
    await sys.tv('POST', `/v1/orders/${open}/payer`, { phone: '13600136000' });
    const other = await newTv(sys, 'legacy-tv');
    const ended = (await other('POST', '/v1/orders', { productId: 'vip-month' })).json().orderId as string;
    await other('POST', `/v1/orders/${ended}/cancel`);
    const db = sys.backend.db;
    // As rows were before the migration: a random token in plain text.
    const legacy = { [open]: 'legacyOpenOrderToken_0123456789', [ended]: 'legacyEndedOrderToken_0123456789' };
    for (const [id, token] of Object.entries(legacy))
      await db.updateTable('orders').set({ link_token_sealed: token }).where('id', '=', id).execute();
    const links = new LinkTokens(sys.secrets.encryptionKey);
    assert.equal(await sealLegacyLinkTokens(db, links, true), 2);
    // The database file itself (the write-ahead log is emptied too at a start, when no reader holds it;
    // this running system's readers do).
    assert.ok(
      !filesHolding(legacy[open]!).includes('backend.db'),
      'the plain token does not linger in the database file',
    );
    assert.equal(await sealLegacyLinkTokens(db, links, true), 0, 'a second start finds nothing to do');
    const rows = await db
      .selectFrom('orders')
      .select(['id', 'link_token_sealed'])
      .where('id', 'in', [open, ended])
      .execute();
    const byId = Object.fromEntries(rows.map((r) => [r.id, r.link_token_sealed]));
    assert.match(byId[open]!, /^v1\./, 'the open order keeps its token sealed');
    assert.equal(byId[ended], '', "the ended order's token is dropped");
    // Sealing runs at a start, before any status read; here the running system has the order as its payer
    // submission announced it, and sees a change made behind its back within its read cache's age (1 s).
    await eventually(async () => {
      const payUrl = (await sys.tv('GET', `/v1/orders/${open}`)).json().payUrl as string;
      assert.ok(payUrl.endsWith(`/pay/${legacy[open]}`), 'the link already sent keeps working');
    }, 3000);
    await sys.tv('POST', `/v1/orders/${open}/cancel`);
  });
});
