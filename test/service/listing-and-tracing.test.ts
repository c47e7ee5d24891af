import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { businessDate, businessDay } from '../../src/lib/business-day.ts';
import { eventually } from '../support/eventually.ts';
import { accountByPhone, createOrder, newTv, payByReply } from '../support/flows.ts';
import { testSystem, type TestSystem } from '../support/system.ts';

const A = '8613800138000';
let sys: TestSystem;
let paidId: string;
let paidTv: Awaited<ReturnType<typeof newTv>>;
before(async () => {
  sys = await testSystem({ TVPAY_LIMIT_PAYER_PER_PHONE: '1000', TVPAY_LIMIT_CODES_PER_PHONE: '1000' });
  paidTv = await newTv(sys, 'trace-tv');
  paidId = await createOrder(sys, 'vip-month', paidTv);
  await payByReply(sys, paidId, A, paidTv, '138 0013 8000');
});
after(() => sys.close());

const admin = (url: string) => sys.backendAdmin('GET', url);

describe('listing and tracing orders', () => {
  it('finds an order by its payer phone in any form, by device and by status, newest first', async () => {
    for (const phone of ['13800138000', '+86 138 0013 8000', '+8613800138000']) {
      const res = await admin(`/admin/v1/orders?phone=${encodeURIComponent(phone)}`);
      assert.equal(res.statusCode, 200, res.body);
      assert.ok(
        res.json().items.some((o: { orderId: string }) => o.orderId === paidId),
        phone,
      );
      assert.ok(
        res.json().items.every((o: { payerPhone: string }) => o.payerPhone === `+${A}`),
        'res.json().items.every((o: { payerPhone: string }) => o.payerPhone === `+${A}`)',
      );
    }
    const order = (await admin(`/admin/v1/orders/${paidId}`)).json();
    const byDevice = (await admin(`/admin/v1/orders?deviceId=${order.deviceId}&status=fulfilled`)).json();
    assert.deepEqual(
      byDevice.items.map((o: { orderId: string }) => o.orderId),
      [paidId],
    );
    assert.equal(byDevice.items[0].paymentId, order.paymentId);
    assert.equal(byDevice.items[0].refundedMinor, 0);
    assert.equal(byDevice.items[0].subscriptionId, null);
    const all = (await admin('/admin/v1/orders')).json().items;
    const times = all.map((o: { createdAt: string }) => o.createdAt);
    assert.deepEqual(times, [...times].sort().reverse());
  });

  it('pages with an opaque cursor without repeating or skipping an order', async () => {
    const tv = await newTv(sys, 'paging-tv');
    for (let i = 0; i < 3; i++) {
      const id = await createOrder(sys, 'kids-app', tv);
      await tv('POST', `/v1/orders/${id}/cancel`);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await admin(`/admin/v1/orders?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.statusCode, 200, res.body);
      seen.push(...res.json().items.map((o: { orderId: string }) => o.orderId));
      cursor = res.json().nextCursor;
    } while (cursor);
    assert.equal(new Set(seen).size, seen.length);
    assert.ok(seen.length >= 4, 'seen.length >= 4');
  });

  it('answers bad filters with a 400 that names them', async () => {
    for (const q of [
      'status=paidish',
      'from=yesterday',
      'limit=500',
      'limit=0',
      'phone=12',
      'cursor=bm9wZQ',
      'colour=red',
    ]) {
      const res = await admin(`/admin/v1/orders?${q}`);
      assert.equal(res.statusCode, 400, `${q} → ${res.body}`);
      assert.ok(res.json().detail.length > 0, 'res.json().detail.length > 0');
    }
  });

  it("tells an order's story oldest first: its statuses, the messages, and the SMS of both services", async () => {
    const res = await admin(`/admin/v1/orders/${paidId}/timeline`);
    assert.equal(res.statusCode, 200, res.body);
    const timeline = res.json();
    const statuses = timeline
      .filter((e: { kind: string }) => e.kind === 'status')
      .map((e: { summary: string }) => e.summary);
    assert.deepEqual(statuses, ['created', 'awaiting_payment', 'paid', 'fulfilled']);
    assert.ok(
      timeline.some((e: { kind: string; smsKind?: string }) => e.kind === 'sms' && e.smsKind === 'code'),
      'the code SMS',
    );
    assert.ok(
      timeline.some(
        (e: { kind: string; summary: string }) => e.kind === 'message' && e.summary.startsWith('payment.completed'),
      ),
      "timeline.some( (e: { kind: string; summary: string }) => e.kind === 'message' && e.summary.startsWit",
    );
    assert.ok(
      timeline.some((e: { kind: string }) => e.kind === 'payment'),
      "timeline.some((e: { kind: string }) => e.kind === 'payment')",
    );
    const times = timeline.map((e: { at: string }) => e.at);
    assert.deepEqual(times, [...times].sort());
    assert.equal((await admin('/admin/v1/orders/ord_nope/timeline')).statusCode, 404);
  });

  it('puts each event of a payment on its own line at the time it happened: started before its code SMS, captured after', async () => {
    type Entry = {
      at: string;
      kind: string;
      phase?: string;
      smsKind?: string;
      completedAt?: string;
      createdAt?: string;
    };
    const timeline = (await admin(`/admin/v1/orders/${paidId}/timeline`)).json() as Entry[];
    const payments = timeline.filter((e) => e.kind === 'payment');
    assert.deepEqual(
      payments.map((e) => e.phase),
      ['started', 'captured'],
    );
    const [started, captured] = payments as [Entry, Entry];
    assert.equal(started.at, started.createdAt);
    assert.equal(captured.at, captured.completedAt);
    const code = timeline.findIndex((e) => e.kind === 'sms' && e.smsKind === 'code');
    assert.ok(timeline.indexOf(started) < code, 'the payment starts before the code SMS it sends');
    assert.ok(timeline.indexOf(captured) > code, 'and is captured after it');
  });

  it('charts the last 7 business days, each starting at midnight in the business time zone', async () => {
    const stats = (await admin('/admin/v1/stats/orders?window=7d')).json() as {
      buckets: Array<{ start: string; paid: number; orders: Record<string, number> }>;
    };
    const zone = sys.config.businessTimeZone;
    assert.equal(stats.buckets.length, 7);
    const today = businessDate(new Date(), zone);
    assert.equal(stats.buckets.at(-1)!.start, businessDay(today, zone).start, 'the last bucket is today');
    for (const b of stats.buckets)
      assert.equal(b.start, businessDay(businessDate(new Date(b.start), zone), zone).start, b.start);
    assert.ok(stats.buckets.at(-1)!.paid >= 1, "today's paid orders are counted");
  });

  it("lists the SMS of the latest orders from both services, newest first, by the payer's phone", async () => {
    const res = await admin('/admin/v1/sms/orders?phone=13800138000&limit=5');
    assert.equal(res.statusCode, 200, res.body);
    const { items, payserverAnswered } = res.json() as {
      items: Array<{ orderId: string; kind: string; sentBy: string; to: string; createdAt: string }>;
      payserverAnswered: boolean;
    };
    assert.equal(payserverAnswered, true);
    const mine = items.filter((s) => s.orderId === paidId);
    assert.ok(
      mine.some((s) => s.kind === 'code' && s.sentBy === 'payserver' && s.to === `+${A}`),
      'the code SMS',
    );
    assert.ok(
      mine.some((s) => s.kind === 'receipt' && s.sentBy === 'payserver'),
      'the receipt',
    );
    const times = items.map((s) => s.createdAt);
    assert.deepEqual(times, [...times].sort().reverse());
    assert.equal((await admin('/admin/v1/sms/orders?limit=0')).statusCode, 400);
  });

  it('finds an order by the payment that paid it and by its refund id', async () => {
    const order = (await admin(`/admin/v1/orders/${paidId}`)).json();
    const byPayment = (await admin(`/admin/v1/orders?paymentId=${order.paymentId}`)).json();
    assert.deepEqual(
      byPayment.items.map((o: { orderId: string }) => o.orderId),
      [paidId],
    );
    assert.deepEqual((await admin('/admin/v1/orders?paymentId=pay_nope')).json().items, []);
    assert.deepEqual((await admin('/admin/v1/orders?refundId=rfd_nope')).json().items, []);
  });

  it("lists the wallet provider's payments newest first, by payment id, phone, status and source, page by page", async () => {
    const order = (await admin(`/admin/v1/orders/${paidId}`)).json();
    const list = async (q: string) => {
      const res = await sys.payAdmin('GET', `/admin/v1/payments?${q}`);
      assert.equal(res.statusCode, 200, res.body);
      return (res.json() as Array<{ paymentId: string; createdAt: string; phone: string; status: string }>).map(
        (p) => p,
      );
    };
    const all = await list('limit=200');
    assert.ok(all.length >= 1, 'all.length >= 1');
    const times = all.map((p) => p.createdAt);
    assert.deepEqual(times, [...times].sort().reverse(), 'newest first');
    assert.deepEqual(
      (await list(`paymentId=${order.paymentId}`)).map((p) => p.paymentId),
      [order.paymentId],
    );
    for (const phone of ['13800138000', '+86 138 0013 8000'])
      assert.ok(
        (await list(`phone=${encodeURIComponent(phone)}`)).every((p) => p.phone === `+${A}`),
        '(await list(`phone=${encodeURIComponent(phone)}`)).every((p) => p.phone === `+${A}`)',
      );
    assert.ok(
      (await list('status=captured&source=wallet')).some((p) => p.paymentId === order.paymentId),
      "(await list('status=captured&source=wallet')).some((p) => p.paymentId === order.paymentId)",
    );
    assert.ok(
      !(await list('status=failed')).some((p) => p.paymentId === order.paymentId),
      "!(await list('status=failed')).some((p) => p.paymentId === order.paymentId)",
    );
    assert.ok(
      !(await list('source=card')).some((p) => p.paymentId === order.paymentId),
      "!(await list('source=card')).some((p) => p.paymentId === order.paymentId)",
    );
    const first = await list('limit=1');
    const second = await list(`limit=1&before=${first[0]!.paymentId}`);
    if (all.length > 1) assert.equal(second[0]?.paymentId, all[1]!.paymentId, 'the next page follows the last');
    assert.equal((await sys.payAdmin('GET', '/admin/v1/payments?phone=12')).statusCode, 400);
    assert.equal((await sys.payAdmin('GET', '/admin/v1/payments?status=lost')).statusCode, 400);
  });

  it("shows the wallet provider an order's payments with their refunds and an account's entries", async () => {
    const order = (await admin(`/admin/v1/orders/${paidId}`)).json();
    assert.equal(
      (await sys.backendAdmin('POST', `/admin/v1/orders/${paidId}/refunds`, { amountMinor: 500, reason: 'goodwill' }))
        .statusCode,
      201,
    );
    const payments = await eventually(async () => {
      const list = (await sys.payAdmin('GET', `/admin/v1/payments?orderId=${paidId}`)).json();
      assert.equal(list[0]?.refunds.length, 1);
      return list;
    });
    assert.equal(payments[0].paymentId, order.paymentId);
    assert.equal(payments[0].status, 'captured');
    assert.equal(payments[0].refundedMinor, 500);
    const account = await accountByPhone(sys, `+${A}`);
    const entries = (await sys.payAdmin('GET', `/admin/v1/accounts/${account.accountId}/entries`)).json();
    const mine = entries.filter(
      (e: { ref: string }) => e.ref === order.paymentId || e.ref === payments[0].refunds[0].refundId,
    );
    assert.deepEqual(mine.map((e: { kind: string }) => e.kind).sort(), ['capture', 'hold', 'refund']);
    assert.equal(mine.find((e: { kind: string }) => e.kind === 'refund').amountMinor, 500);
    assert.equal((await sys.payAdmin('GET', '/admin/v1/accounts/acc_nope/entries')).statusCode, 404);
  });
});

describe('devices and products for operators', () => {
  it('lists devices and revokes a token at once', async () => {
    const res = await sys.backendAdmin('POST', '/admin/v1/devices', { name: 'to revoke', accountId: 'acct-revoke' });
    const { deviceId, token } = res.json();
    const tv = sys.as(token);
    assert.equal((await tv('GET', '/v1/products')).statusCode, 200);
    const listed = (await admin('/admin/v1/devices')).json();
    assert.ok(
      listed.some((d: { deviceId: string; revokedAt: null }) => d.deviceId === deviceId && d.revokedAt === null),
      'listed.some((d: { deviceId: string; revokedAt: null }) => d.deviceId === deviceId && d.revokedAt ===',
    );
    assert.ok(!JSON.stringify(listed).includes(token), 'tokens are never listed');
    assert.equal((await sys.backendAdmin('DELETE', `/admin/v1/devices/${deviceId}`)).statusCode, 204);
    assert.equal((await tv('GET', '/v1/products')).statusCode, 401);
    assert.ok(
      (await admin('/admin/v1/devices')).json().find((d: { deviceId: string }) => d.deviceId === deviceId).revokedAt,
      "(await admin('/admin/v1/devices')).json().find((d: { deviceId: string }) => d.deviceId === deviceId)",
    );
    assert.equal((await sys.backendAdmin('DELETE', '/admin/v1/devices/dev_nope')).statusCode, 404);
  });

  it('retires a product: TVs stop seeing and buying it, old orders keep it, a PUT puts it back', async () => {
    const put = await sys.backendAdmin('PUT', '/admin/v1/products/old-pack', {
      title: 'Old pack',
      amountMinor: 300,
      currency: 'CNY',
      service: 'old',
      durationDays: 7,
    });
    assert.equal(put.statusCode, 200, put.body);
    const tv = await newTv(sys, 'retire-tv');
    const orderId = await createOrder(sys, 'old-pack', tv);
    assert.equal((await sys.backendAdmin('DELETE', '/admin/v1/products/old-pack')).statusCode, 204);
    assert.ok(
      !(await tv('GET', '/v1/products')).json().some((p: { productId: string }) => p.productId === 'old-pack'),
      "!(await tv('GET', '/v1/products')).json().some((p: { productId: string }) => p.productId === 'old-pack')",
    );
    assert.equal((await tv('POST', '/v1/orders', { productId: 'old-pack' })).statusCode, 404);
    assert.ok(
      (await admin('/admin/v1/products')).json().find((p: { productId: string }) => p.productId === 'old-pack')
        .retiredAt,
      "(await admin('/admin/v1/products')).json().find((p: { productId: string }) => p.productId === 'old-p",
    );
    assert.equal((await sys.backendAdmin('GET', `/admin/v1/orders/${orderId}`)).json().title, 'Old pack');
    await sys.backendAdmin('PUT', '/admin/v1/products/old-pack', {
      title: 'Old pack',
      amountMinor: 300,
      currency: 'CNY',
      service: 'old',
      durationDays: 7,
    });
    assert.ok(
      (await tv('GET', '/v1/products')).json().some((p: { productId: string }) => p.productId === 'old-pack'),
      "(await tv('GET', '/v1/products')).json().some((p: { productId: string }) => p.productId === 'old-pack')",
    );
    assert.equal((await sys.backendAdmin('DELETE', '/admin/v1/products/nope')).statusCode, 404);
  });
});
