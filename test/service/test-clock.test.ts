import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { createOrder, newTv, smsCount, payByReply } from '../support/flows.ts';
import { suiteSystem } from '../support/system.ts';

const DAY = 24 * 3600 * 1000;
const A = '8613800138000';
const sys = suiteSystem({ TVPAY_TEST_CLOCK: '1', TVPAY_RENEWAL_NOTICE_DAYS: '3' });

describe('the test clock', () => {
  it('walks a long move forward so the renewal notice goes on its day and the renewal after it, at the period end', async () => {
    const tv = await newTv(sys, 'clock-tv');
    const orderId = await createOrder(sys, 'uhd-monthly', tv);
    await payByReply(sys, orderId, A, tv);
    const [sub] = (await tv('GET', '/v1/subscriptions')).json();
    const periodEnd = Date.parse(sub.currentPeriodEnd);
    const before = await smsCount(sys, A);

    // One jump past the period end, as an operator trying renewals would make.
    const res = await sys.backendAdmin('POST', '/admin/v1/test-clock', { advanceSeconds: 31 * 86_400 });
    assert.equal(res.statusCode, 200, res.body);
    const texts = await eventually(async () => {
      const inbox = (await sys.carrier.carrier.inbox(A)).slice(before);
      const notice = inbox.find((m) => /将于.*自动续费/.test(m.text));
      const renewed = inbox.find((m) => /已自动续费/.test(m.text));
      assert.ok(notice && renewed, JSON.stringify(inbox.map((m) => m.text)));
      return { notice, renewed };
    }, 15_000);
    const noticeAt = Date.parse(texts.notice.at);
    const renewedAt = Date.parse(texts.renewed.at);
    assert.ok(noticeAt >= periodEnd - 3 * DAY, `the notice went before its day: ${texts.notice.at}`);
    assert.ok(noticeAt <= periodEnd - 2 * DAY, `the notice went ${(periodEnd - noticeAt) / DAY} days before the end`);
    assert.ok(renewedAt >= periodEnd, `renewed before the period end: ${texts.renewed.at}`);
    assert.ok(renewedAt - noticeAt >= 2 * DAY, 'the renewal came days after the notice, not at once');
  });
});
