import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { timelineLine, type TimelineItem } from '../../src/backend/console/timeline-view.ts';
import { ordersCsv } from '../../src/backend/console/orders-export.ts';
import type { AdminOrder } from '../../src/contracts/tv-api.ts';
import { CHANNEL, money, problemSay, say, SOURCE } from '../../src/lib/console/console-words.ts';
import { ledgerView } from '../../src/payserver/console/ledger-view.ts';

/** An order's timeline entry (its time does not matter to the words): `more` is what its kind carries. */
const entry = (kind: string, summary: string, more: Partial<TimelineItem> = {}): TimelineItem => ({
  at: 'x',
  kind,
  summary,
  ...more,
});

describe("the consoles' words and views", () => {
  it('writes money sign first with two decimals: -¥200.00, ¥0.00', () => {
    assert.equal(money(-20000, 'CNY'), '-¥200.00');
    assert.equal(money(990, 'CNY'), '¥9.90');
    assert.equal(money(0, 'CNY'), '¥0.00');
  });

  it('names the rails to come in both languages: Alipay, WeChat Pay, scan to pay', () => {
    assert.deepEqual(
      ['alipay', 'wechatpay', 'scan'].map((s) => say(SOURCE, s, 'zh-CN')),
      ['支付宝', '微信支付', '扫码支付'],
    );
    assert.equal(say(CHANNEL, 'scan', 'en'), 'scan to pay');
    assert.equal(say(SOURCE, null, 'en'), '—');
  });

  it('says an over-refund in words with what is left, never "minor units"', () => {
    const p = { code: 'REFUND_EXCEEDS_PAYMENT', detail: 'Only 4.90 CNY (490 minor units) …', leftMinor: 490 };
    assert.equal(problemSay(p, 'zh-CN'), '超出可退金额：最多还能退 ¥4.90（处理中的退款也计算在内）。');
    assert.doesNotMatch(problemSay(p, 'en'), /minor units|490\b/);
    assert.match(problemSay(p, 'en'), /at most ¥4\.90/);
  });

  it('shows a hold apart from the capture that took its money, with the balance after each posting', () => {
    const lines = [
      { at: '2026-12-06T03:00:02Z', kind: 'refund', source: 'wallet', amountMinor: 5000, ref: 'rfd_1' },
      { at: '2026-12-06T03:00:01Z', kind: 'capture', source: 'wallet', amountMinor: -20000, ref: 'pay_1' },
      { at: '2026-12-06T03:00:00Z', kind: 'hold', source: 'wallet', amountMinor: -20000, ref: 'pay_1' },
      { at: '2026-12-06T02:00:01Z', kind: 'release', source: 'card', amountMinor: 300, ref: 'pay_0' },
      { at: '2026-12-06T02:00:00Z', kind: 'hold', source: 'card', amountMinor: -300, ref: 'pay_0' },
      { at: '2026-12-06T01:00:00Z', kind: 'credit', source: 'wallet', amountMinor: 50000, ref: 'top-up' },
    ];
    const { postings, holds } = ledgerView(lines, { wallet: 35000, card: 1000 });
    assert.deepEqual(
      postings.map((p) => [p.kind, p.amountMinor, p.balanceAfterMinor]),
      [
        ['refund', 5000, 35000],
        ['capture', -20000, 30000],
        ['credit', 50000, 50000],
      ],
    );
    assert.deepEqual(
      holds.map((h) => [h.ref, h.amountMinor, h.state, h.resolvedAt]),
      [
        ['pay_1', 20000, 'captured', '2026-12-06T03:00:01Z'],
        ['pay_0', 300, 'released', '2026-12-06T02:00:01Z'],
      ],
    );
  });

  it("reads an order's timeline in words: API status names in English, Chinese words in Chinese, yuan not fen", () => {
    const refund = entry('refund', 'refund of 5000 asked (admin)', { amountMinor: 5000, status: 'pending' });
    assert.equal(timelineLine(refund, 'en', 'CNY').text, 'Refund of ¥50.00 asked');
    assert.equal(timelineLine(refund, 'zh-CN', 'CNY').text, '申请退款 ¥50.00');
    const status = entry('status', 'awaiting_payment');
    assert.equal(timelineLine(status, 'en', 'CNY').text, 'awaiting_payment');
    assert.equal(timelineLine(status, 'zh-CN', 'CNY').text, '待支付');
    const sms = entry('sms', 'SMS code from the payment server: delivered', { smsKind: 'code', status: 'delivered' });
    assert.deepEqual(timelineLine(sms, 'en', 'CNY'), {
      kind: 'SMS',
      text: 'SMS confirmation code from the payment server: delivered',
    });
    assert.equal(timelineLine(sms, 'zh-CN', 'CNY').text, '支付服务器发送的验证码短信：已送达');
    const captured = entry('payment', '', {
      phase: 'captured',
      method: 'sms_code',
      source: 'wallet',
      amountMinor: 990,
    });
    assert.equal(timelineLine(captured, 'zh-CN', 'CNY').text, '从钱包扣款 ¥9.90');
    const message = entry('message', 'payment.failed applied', { failureCode: 'INSUFFICIENT_FUNDS' });
    assert.equal(timelineLine(message, 'zh-CN', 'CNY').text, '支付失败：已处理：钱包和银行卡余额不足');
  });

  it('exports orders as CSV a spreadsheet reads: words, yuan, local time, masked phones, no formulas', () => {
    const order = {
      orderId: 'ord_1',
      createdAt: '2026-12-06T16:30:00.000Z',
      title: '=HYPERLINK("x")',
      amountMinor: 990,
      refundedMinor: 0,
      currency: 'CNY',
      status: 'awaiting_payment',
      channel: 'wap_link',
      paidWith: null,
      payerPhoneMasked: '138****8000',
      deviceId: 'dev_1',
    } as unknown as AdminOrder;
    const csv = ordersCsv([order], 'zh-CN', 'Asia/Shanghai');
    assert.ok(csv.startsWith('\ufeff"订单","创建时间"'), 'csv.startsWith(\'\\ufeff"订单","创建时间"\')');
    const row = csv.trim().split('\r\n')[1]!;
    assert.equal(
      row,
      `"ord_1","2026/12/07 00:30:00","'=HYPERLINK(""x"")","9.90","0.00","CNY","待支付","短信支付链接","—","138****8000","dev_1"`,
    );
  });
});
