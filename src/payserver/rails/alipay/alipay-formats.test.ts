import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { billCsv, encodeGbk, zip } from '../../../dev-rails/alipay/bill-file.ts';
import { assertOutTradeNo, beijingTime, fenToYuan, isOutTradeNo, parseBeijingTime, yuanToFen } from './amounts.ts';
import { eventOfNotification, queryOutcomeOf, refundQueryOutcomeOf, startOutcomeOfPay, verdictOf } from './answers.ts';
import { billText, parseTradeBill } from './bill.ts';
import { formParams } from './notification.ts';

describe('Alipay amounts', () => {
  it('writes fen as yuan with exactly two decimals', () => {
    assert.equal(fenToYuan(20000), '200.00');
    assert.equal(fenToYuan(1), '0.01');
    assert.equal(fenToYuan(0), '0.00');
    assert.equal(fenToYuan(123456789), '1234567.89');
  });

  it('refuses fen that are not a whole, non-negative, convertible number', () => {
    for (const bad of [-1, 1.5, Number.NaN, Infinity, 2 ** 53, 10_000_000_001]) {
      assert.throws(() => fenToYuan(bad), RangeError, String(bad));
    }
  });

  it('reads yuan back to fen, and refuses what is not exact', () => {
    assert.equal(yuanToFen('200.00'), 20000);
    assert.equal(yuanToFen('200'), 20000);
    assert.equal(yuanToFen('0.5'), 50);
    for (const bad of ['200.001', '-1.00', '1e3', ' 1.00', '01.00', '1.', '.50', '', '1,00', '１.00', 200]) {
      assert.equal(yuanToFen(bad), undefined, JSON.stringify(bad));
    }
  });

  it('round-trips every fen amount exactly (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000_000 }), (fen) => {
        const yuan = fenToYuan(fen);
        assert.match(yuan, /^(0|[1-9]\d*)\.\d{2}$/);
        assert.equal(yuanToFen(yuan), fen);
      }),
    );
  });

  it('never reads a string with a third decimal as an amount (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 1, max: 9 }), (fen, extra) => {
        assert.equal(yuanToFen(`${fenToYuan(fen)}${extra}`), undefined);
      }),
    );
  });
});

describe('Alipay trade numbers and times', () => {
  it('takes 1 to 64 letters, digits and underscores as out_trade_no', () => {
    assert.ok(isOutTradeNo('A_1'), "isOutTradeNo('A_1')");
    assert.ok(isOutTradeNo('x'.repeat(64)), "isOutTradeNo('x'.repeat(64))");
    for (const bad of ['', 'x'.repeat(65), 'a-b', 'a b', '订单1', 'a.b']) assert.ok(!isOutTradeNo(bad), bad);
    assert.throws(() => assertOutTradeNo('a-b'), RangeError);
  });

  it('accepts exactly the strings of the alphabet up to 64 long (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        assert.equal(isOutTradeNo(s), s.length >= 1 && s.length <= 64 && /^[A-Za-z0-9_]*$/.test(s));
      }),
    );
  });

  it('writes time_expire in Beijing time (UTC+8) and reads it back', () => {
    const at = new Date('2026-12-06T16:30:05Z');
    assert.equal(beijingTime(at), '2026-12-07 00:30:05');
    assert.equal(parseBeijingTime('2026-12-07 00:30:05')?.toISOString(), '2026-12-06T16:30:05.000Z');
    assert.equal(parseBeijingTime('2026-02-30 00:00:00'), undefined);
    assert.equal(parseBeijingTime('2026-12-07T00:30:05'), undefined);
  });
});

describe("reading Alipay's answers", () => {
  const paid = {
    code: '10000',
    msg: 'Success',
    trade_no: '2026120722001400000000000001',
    out_trade_no: 'T1',
    total_amount: '200.00',
    buyer_logon_id: 'ab***@example.com',
    gmt_payment: '2026-12-07 00:30:05',
  };

  it('maps codes: 10000 ok, 10003/20000/odd codes unknown, 4xxxx refused with the sub_code', () => {
    assert.deepEqual(verdictOf({ code: '10000' }), { kind: 'ok' });
    assert.equal(verdictOf({ code: '10003', msg: 'waiting' }).kind, 'unknown');
    assert.equal(verdictOf({ code: '20000', sub_code: 'isp.unknow-error' }).kind, 'unknown');
    assert.equal(verdictOf({}).kind, 'unknown');
    assert.deepEqual(verdictOf({ code: '40004', sub_code: 'ACQ.TRADE_HAS_SUCCESS', sub_msg: '交易已被支付' }), {
      kind: 'refused',
      providerCode: 'ACQ.TRADE_HAS_SUCCESS',
      message: '交易已被支付',
    });
  });

  it('reads an agreement charge: paid, insufficient funds, another refusal, waiting', () => {
    assert.deepEqual(startOutcomeOfPay(paid), {
      state: 'paid',
      paid: {
        outTradeNo: 'T1',
        providerTradeNo: paid.trade_no,
        amountMinor: 20000,
        paidAt: new Date('2026-12-06T16:30:05Z'),
        payer: 'ab***@example.com',
      },
    });
    const poor = startOutcomeOfPay({ code: '40004', sub_code: 'ACQ.BUYER_BALANCE_NOT_ENOUGH', sub_msg: 'x' });
    assert.deepEqual(poor.state === 'failed' && [poor.code, poor.providerCode], [
      'INSUFFICIENT_FUNDS',
      'ACQ.BUYER_BALANCE_NOT_ENOUGH',
    ]);
    const other = startOutcomeOfPay({ code: '40004', sub_code: 'ACQ.AGREEMENT_INVALID' });
    assert.deepEqual(other.state === 'failed' && [other.code, other.providerCode], [
      'RAIL_REFUSED',
      'ACQ.AGREEMENT_INVALID',
    ]);
    assert.equal(startOutcomeOfPay({ code: '10003', msg: 'ORDER_SUCCESS_PAY_INPROCESS' }).state, 'unknown');
    assert.equal(startOutcomeOfPay({ ...paid, total_amount: '200.001' }).state, 'unknown', 'an inexact amount');
  });

  it('reads a query: pending, paid, closed, refunded, not found', () => {
    assert.deepEqual(queryOutcomeOf({ code: '10000', trade_status: 'WAIT_BUYER_PAY' }), { state: 'pending' });
    assert.equal(
      queryOutcomeOf({
        ...paid,
        trade_status: 'TRADE_SUCCESS',
        gmt_payment: undefined,
        send_pay_date: paid.gmt_payment,
      }).state,
      'paid',
    );
    assert.equal(queryOutcomeOf({ ...paid, trade_status: 'TRADE_FINISHED' }).state, 'paid');
    assert.deepEqual(queryOutcomeOf({ code: '10000', trade_status: 'TRADE_CLOSED', out_trade_no: 'T1' }), {
      state: 'closed',
    });
    const refunded = queryOutcomeOf({ ...paid, trade_status: 'TRADE_CLOSED', send_pay_date: paid.gmt_payment });
    assert.equal(refunded.state, 'refunded');
    assert.deepEqual(queryOutcomeOf({ code: '40004', sub_code: 'ACQ.TRADE_NOT_EXIST' }), { state: 'not_found' });
    assert.equal(queryOutcomeOf({ code: '20000', sub_code: 'ACQ.SYSTEM_ERROR' }).state, 'unknown');
  });

  it('reads a refund query: done, not yet, never accepted', () => {
    const now = new Date();
    const done = refundQueryOutcomeOf(
      { code: '10000', refund_amount: '1.00', refund_status: 'REFUND_SUCCESS', gmt_refund_pay: '2026-12-07 00:30:05' },
      now,
    );
    assert.deepEqual(done, { state: 'succeeded', at: new Date('2026-12-06T16:30:05Z') });
    assert.deepEqual(
      refundQueryOutcomeOf({ code: '10000', refund_amount: '1.00', refund_status: 'REFUND_PROCESSING' }, now),
      { state: 'pending' },
    );
    const none = refundQueryOutcomeOf({ code: '10000', out_trade_no: 'T1' }, now);
    assert.deepEqual(none.state === 'failed' && none.providerCode, 'REFUND_NOT_FOUND');
  });
});

describe("reading Alipay's notifications", () => {
  const base = { notify_time: '2026-12-07 00:30:06', app_id: '2021000000000001', out_trade_no: 'T1' };

  it('turns TRADE_SUCCESS and TRADE_FINISHED into trade.paid with the notified amount', () => {
    for (const trade_status of ['TRADE_SUCCESS', 'TRADE_FINISHED']) {
      const e = eventOfNotification({
        ...base,
        notify_type: 'trade_status_sync',
        trade_status,
        trade_no: '2026',
        total_amount: '12.34',
        gmt_payment: '2026-12-07 00:30:05',
      });
      assert.ok(typeof e !== 'string' && e.type === 'trade.paid' && e.paid.amountMinor === 1234, JSON.stringify(e));
    }
  });

  it('turns TRADE_CLOSED into trade.closed, and a refund into refund.succeeded with Alipay’s refund_fee', () => {
    assert.deepEqual(eventOfNotification({ ...base, notify_type: 'trade_status_sync', trade_status: 'TRADE_CLOSED' }), {
      type: 'trade.closed',
      outTradeNo: 'T1',
    });
    const r = eventOfNotification({
      ...base,
      notify_type: 'trade_status_sync',
      trade_status: 'TRADE_SUCCESS',
      out_biz_no: 'R1',
      refund_fee: '1.00',
      gmt_refund: '2026-12-07 00:31:00.000',
    });
    assert.ok(
      typeof r !== 'string' && r.type === 'refund.succeeded' && r.refundMinor === 100 && r.outRefundNo === 'R1',
      "typeof r !== 'string' && r.type === 'refund.succeeded' && r.refundMinor === 100 && r.outRefundNo ===",
    );
  });

  it('turns dut_user_sign NORMAL into agreement.signed and dut_user_unsign into agreement.ended', () => {
    const agreement = { ...base, agreement_no: '20261207', external_agreement_no: 'EA1' };
    const signed = eventOfNotification({
      ...agreement,
      notify_type: 'dut_user_sign',
      status: 'NORMAL',
      sign_time: '2026-12-07 00:30:00',
    });
    assert.deepEqual(signed, {
      type: 'agreement.signed',
      externalAgreementNo: 'EA1',
      agreementNo: '20261207',
      at: new Date('2026-12-06T16:30:00Z'),
    });
    assert.equal(typeof eventOfNotification({ ...agreement, notify_type: 'dut_user_sign', status: 'TEMP' }), 'string');
    const ended = eventOfNotification({ ...agreement, notify_type: 'dut_user_unsign', status: 'UNSIGN' });
    assert.ok(
      typeof ended !== 'string' && ended.type === 'agreement.ended',
      "typeof ended !== 'string' && ended.type === 'agreement.ended'",
    );
  });

  it('gives a reason for what it does not act on', () => {
    assert.match(
      String(eventOfNotification({ ...base, notify_type: 'trade_status_sync', trade_status: 'WAIT_BUYER_PAY' })),
      /WAIT_BUYER_PAY/,
    );
    assert.match(String(eventOfNotification({ ...base, notify_type: 'something_else' })), /something_else/);
    assert.match(
      String(
        eventOfNotification({
          ...base,
          notify_type: 'trade_status_sync',
          trade_status: 'TRADE_SUCCESS',
          total_amount: 'x',
        }),
      ),
      /readable/,
    );
  });

  it('reads the form as posted, and refuses what is not a UTF-8 form with each field once', () => {
    const form = (body: string | Buffer, type = 'application/x-www-form-urlencoded; charset=utf-8') =>
      formParams({ headers: { 'content-type': type }, body: Buffer.from(body) });
    assert.deepEqual(form('a=1&b=%E6%94%AF+%2B'), { a: '1', b: '支 +' });
    assert.match(String(form('a=1', 'application/json')), /not a form/);
    assert.match(String(form('a=1', 'application/x-www-form-urlencoded; charset=gbk')), /gbk/);
    assert.match(String(form(Buffer.from([0x61, 0x3d, 0xff]))), /UTF-8/);
    assert.match(String(form('a=1&a=2')), /twice/);
  });
});

describe("reading Alipay's trade bill", () => {
  const rows = [
    {
      tradeNo: '2026001',
      outTradeNo: 'T1',
      kind: '交易' as const,
      subject: '电影, 高清',
      createdAt: '2026-12-07 00:00:01',
      finishedAt: '2026-12-07 00:00:05',
      payer: 'a***@b.c',
      amount: '20.00',
      refundNo: '',
    },
    {
      tradeNo: '2026001',
      outTradeNo: 'T1',
      kind: '退款' as const,
      subject: '电影',
      createdAt: '2026-12-07 00:00:01',
      finishedAt: '2026-12-07 01:00:00',
      payer: 'a***@b.c',
      amount: '-5.00',
      refundNo: 'R1',
    },
  ];
  const expected = [
    {
      kind: 'payment',
      outTradeNo: 'T1',
      providerTradeNo: '2026001',
      amountMinor: 2000,
      at: new Date('2026-12-06T16:00:05Z'),
    },
    {
      kind: 'refund',
      outTradeNo: 'T1',
      providerTradeNo: '2026001',
      amountMinor: 500,
      at: new Date('2026-12-06T17:00:00Z'),
      outRefundNo: 'R1',
    },
  ];

  it('parses the detail rows of the CSV between its # lines, in fen', () => {
    assert.deepEqual(parseTradeBill(billCsv('2021', '2026-12-07', rows, '2026-12-08 09:00:00')), expected);
  });

  it('reads the GBK CSV out of a zip, as Alipay serves it', () => {
    const csv = billCsv('2021', '2026-12-07', rows, '2026-12-08 09:00:00');
    const file = zip([{ name: '2021_20261207_业务明细.csv', data: encodeGbk(csv) }]);
    assert.deepEqual(parseTradeBill(billText(file)), expected);
    assert.equal(new TextDecoder('gbk').decode(encodeGbk('支付宝 ok')), '支付宝 ok');
  });

  it('refuses a bill without its columns or with an unreadable row', () => {
    assert.throws(() => parseTradeBill('a,b\n1,2'), /no column/);
    const csv = billCsv('2021', '2026-12-07', [{ ...rows[0]!, amount: '2.001' }], 'x');
    assert.throws(() => parseTradeBill(csv), /row 1/);
  });
});
