import assert from 'node:assert/strict';
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { describe, test } from 'node:test';
import { Aes, Formatter, Rsa } from 'wechatpay-axios-plugin';
import { classifyFailure, queryFailureOf, queryOutcomeOf, refundOutcomeOf, startFailureOf } from './answers.ts';
import { parseTradeBill, TRADE_BILL_COLUMNS, TRADE_BILL_SUMMARY_COLUMNS } from './bill.ts';
import { verifyNotification, type NotificationKeys } from './notification.ts';
import { termsProblem } from './wechatpay-rail.ts';
import { fenToYuan, isWechatOutTradeNo, toWechatTime, yuanToFen } from './wire.ts';

describe('out_trade_no rules', () => {
  test('accepts 6-32 letters, digits, _ - | * and refuses anything else', () => {
    for (const ok of ['abc123', 'A_b-c|d*e', 'x'.repeat(32)]) assert.equal(isWechatOutTradeNo(ok), true, ok);
    for (const bad of ['abc12', 'x'.repeat(33), 'has space', 'dot.no', '中文订单号12', 'a/b/c/d']) {
      assert.equal(isWechatOutTradeNo(bad), false, bad);
    }
  });
});

describe('amounts and times', () => {
  const terms = {
    outTradeNo: 'T_000001',
    amountMinor: 1999,
    currency: 'CNY' as const,
    subject: 'Film',
    expiresAt: new Date('2026-12-06T16:30:00Z'),
  };
  test('terms with integer fen, CNY and a valid number pass', () => assert.equal(termsProblem(terms), undefined));
  test('a fractional, zero or negative amount is refused before anything is sent', () => {
    for (const amountMinor of [19.5, 0, -1, Number.MAX_SAFE_INTEGER + 2]) {
      assert.match(termsProblem({ ...terms, amountMinor }) ?? '', /amount\.total/);
    }
  });
  test('time_expire is RFC 3339 in +08:00 at whole seconds', () => {
    assert.equal(toWechatTime(new Date('2026-12-06T16:30:00.900Z')), '2026-12-07T00:30:00+08:00');
  });
  test('yuan strings convert to fen exactly and back, and inexact ones are refused', () => {
    assert.equal(yuanToFen('12.30'), 1230);
    assert.equal(yuanToFen('0.01'), 1);
    assert.equal(yuanToFen('12.3'), undefined);
    assert.equal(yuanToFen('1e3'), undefined);
    assert.equal(fenToYuan(1230), '12.30');
    assert.equal(fenToYuan(5), '0.05');
  });
});

describe('answers', () => {
  const trade = { out_trade_no: 'T_000001', transaction_id: '4200000001', trade_state: 'SUCCESS' };
  const payment = { success_time: '2026-12-07T00:30:00+08:00', payer: { openid: 'o123' }, amount: { total: 300 } };
  const paid = { ...trade, ...payment };
  test('SUCCESS is paid with the provider number, amount, time and payer', () => {
    assert.deepEqual(queryOutcomeOf(paid), {
      state: 'paid',
      paid: {
        outTradeNo: 'T_000001',
        providerTradeNo: '4200000001',
        amountMinor: 300,
        paidAt: new Date('2026-12-06T16:30:00Z'),
        payer: 'o123',
      },
    });
  });
  test('NOTPAY, USERPAYING, ACCEPT pending; CLOSED, PAYERROR, REVOKED closed; REFUND (part or all) paid', () => {
    for (const s of ['NOTPAY', 'USERPAYING', 'ACCEPT'])
      assert.equal(queryOutcomeOf({ trade_state: s }).state, 'pending');
    for (const s of ['CLOSED', 'PAYERROR', 'REVOKED']) assert.equal(queryOutcomeOf({ trade_state: s }).state, 'closed');
    assert.equal(queryOutcomeOf({ ...paid, trade_state: 'REFUND' }).state, 'paid');
  });
  test('a SUCCESS without its amount, or a state never heard of, is unknown', () => {
    assert.equal(queryOutcomeOf({ ...paid, amount: {} }).state, 'unknown');
    assert.equal(queryOutcomeOf({ trade_state: 'WHAT' }).state, 'unknown');
  });
  const httpError = (status: number, data: unknown) => ({ code: 'ERR_BAD_REQUEST', response: { status, data } });
  test('HTTP 404 ORDER_NOT_EXIST is not_found; other answers stay unknown for a query', () => {
    assert.deepEqual(queryFailureOf(httpError(404, { code: 'ORDER_NOT_EXIST', message: 'x' })), { state: 'not_found' });
    assert.equal(queryFailureOf(httpError(500, {})).state, 'unknown');
  });
  test('5xx, SYSTEM_ERROR, time-outs, network errors and a failed answer signature are unknown', () => {
    assert.equal(classifyFailure(httpError(502, '')).kind, 'unknown');
    assert.equal(classifyFailure(httpError(400, { code: 'SYSTEM_ERROR' })).kind, 'unknown');
    assert.equal(classifyFailure({ code: 'ECONNABORTED', message: 'timeout of 10000ms exceeded' }).kind, 'unknown');
    assert.equal(classifyFailure({ code: 'ECONNREFUSED' }).kind, 'unknown');
    const forged = { code: 'EV3_RES_HEADER_SIGNATURE_DIGEST', response: { status: 200, data: {} } };
    assert.equal(startFailureOf(forged).state, 'unknown');
  });
  test('NOT_ENOUGH fails as INSUFFICIENT_FUNDS; any other 4xx as RAIL_REFUSED keeping the code', () => {
    assert.deepEqual(startFailureOf(httpError(403, { code: 'NOT_ENOUGH', message: '余额不足' })), {
      state: 'failed',
      code: 'INSUFFICIENT_FUNDS',
      providerCode: 'NOT_ENOUGH',
      message: '余额不足',
    });
    assert.deepEqual(startFailureOf(httpError(400, JSON.stringify({ code: 'PARAM_ERROR', message: 'bad' }))), {
      state: 'failed',
      code: 'RAIL_REFUSED',
      providerCode: 'PARAM_ERROR',
      message: 'bad',
    });
  });
  test('a refund SUCCESS succeeded, PROCESSING pending, ABNORMAL failed', () => {
    const now = new Date();
    assert.deepEqual(refundOutcomeOf({ status: 'SUCCESS', refund_id: 'R1', success_time: paid.success_time }, now), {
      state: 'succeeded',
      providerRefundNo: 'R1',
      at: new Date('2026-12-06T16:30:00Z'),
    });
    assert.deepEqual(refundOutcomeOf({ status: 'PROCESSING' }, now), { state: 'pending' });
    assert.equal(refundOutcomeOf({ status: 'ABNORMAL' }, now).state, 'failed');
  });
});

describe('trade bill', () => {
  const TRADE_1 = { 微信订单号: '42001', 商户订单号: 'T_1|a' };
  const row = (cells: Record<string, string>) => TRADE_BILL_COLUMNS.map((c) => `\`${cells[c] ?? ''}`).join(',');
  const bill = [
    `\uFEFF${TRADE_BILL_COLUMNS.join(',')}`,
    row({ ...TRADE_1, 交易时间: '2026-12-06 10:00:00', 交易状态: 'SUCCESS', 应结订单金额: '3.00' }),
    row({
      ...TRADE_1,
      交易时间: '2026-12-06 11:00:00',
      交易状态: 'REFUND',
      应结订单金额: '0.00',
      商户退款单号: 'R_1',
      退款金额: '1.00',
      退款状态: 'SUCCESS',
    }),
    TRADE_BILL_SUMMARY_COLUMNS.join(','),
    '`2,`3.00,`1.00,`0.00,`0.00000,`3.00,`1.00',
    '',
  ].join('\r\n');
  test('parses backquoted payment and refund rows in fen, China time, and stops at the summary', () => {
    assert.deepEqual(parseTradeBill(bill), [
      {
        kind: 'payment',
        outTradeNo: 'T_1|a',
        providerTradeNo: '42001',
        at: new Date('2026-12-06T02:00:00Z'),
        amountMinor: 300,
      },
      {
        kind: 'refund',
        outTradeNo: 'T_1|a',
        providerTradeNo: '42001',
        at: new Date('2026-12-06T03:00:00Z'),
        outRefundNo: 'R_1',
        amountMinor: 100,
      },
    ]);
  });
  test('a bill with an amount not in yuan, or without its summary, is refused whole', () => {
    assert.throws(() => parseTradeBill(bill.replace('`3.00', '`3')), /yuan/);
    assert.throws(() => parseTradeBill(bill.split('总交易单数')[0]!), /trade bill/);
  });
});

describe('notifications', () => {
  const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const apiV3Key = 'k'.repeat(32);
  const now = new Date('2026-12-06T16:30:00Z');
  const keys: NotificationKeys = {
    mchId: '1900000001',
    appId: 'wx0000000000000001',
    publicKeys: { PUB_KEY_ID_0114000000: createPublicKey(platform.publicKey.export({ type: 'spki', format: 'pem' })) },
    apiV3Key,
    now: () => now,
  };
  function notification(eventType: string, resource: object, at = now, serial = 'PUB_KEY_ID_0114000000') {
    const nonce = Formatter.nonce(12);
    const ciphertext = Aes.AesGcm.encrypt(JSON.stringify(resource), apiV3Key, nonce, 'transaction');
    const body = JSON.stringify({
      id: 'EV-1',
      event_type: eventType,
      resource: { algorithm: 'AEAD_AES_256_GCM', ciphertext, nonce, associated_data: 'transaction' },
    });
    const ts = String(Math.floor(at.getTime() / 1000));
    const hnonce = Formatter.nonce();
    const signature = Rsa.sign(`${ts}\n${hnonce}\n${body}\n`, platform.privateKey);
    return {
      headers: {
        'wechatpay-timestamp': ts,
        'wechatpay-nonce': hnonce,
        'wechatpay-signature': signature,
        'wechatpay-serial': serial,
      },
      body: Buffer.from(body),
    };
  }
  const tx = {
    mchid: keys.mchId,
    appid: keys.appId,
    out_trade_no: 'T_000001',
    transaction_id: '4200000001',
    trade_state: 'SUCCESS',
    success_time: '2026-12-07T00:29:00+08:00',
    amount: { total: 300 },
  };
  test('a signed, fresh TRANSACTION.SUCCESS decrypts to trade.paid and is answered 204', () => {
    const v = verifyNotification(notification('TRANSACTION.SUCCESS', tx), keys);
    assert.equal(v.ok, true);
    assert.equal(v.answer.status, 204);
    assert.equal(v.ok && v.event.type === 'trade.paid' && v.event.paid.amountMinor, 300);
  });
  test('a contract notification ADD is agreement.signed and DELETE agreement.ended', () => {
    const c = {
      mchid: keys.mchId,
      appid: keys.appId,
      out_contract_code: 'A1',
      contract_id: 'C1',
      operate_time: tx.success_time,
    };
    const signed = verifyNotification(notification('PAPAY.SIGN', { ...c, change_type: 'ADD' }), keys);
    assert.equal(signed.ok && signed.event.type, 'agreement.signed');
    const ended = verifyNotification(notification('PAPAY.TERMINATE', { ...c, change_type: 'DELETE' }), keys);
    assert.equal(ended.ok && ended.event.type, 'agreement.ended');
  });
  test('a REFUND.SUCCESS is refund.succeeded with the refunded fen', () => {
    const r = {
      mchid: keys.mchId,
      out_trade_no: 'T_000001',
      out_refund_no: 'R_1',
      refund_status: 'SUCCESS',
      amount: { refund: 100 },
    };
    const v = verifyNotification(notification('REFUND.SUCCESS', r), keys);
    assert.equal(v.ok && v.event.type === 'refund.succeeded' && v.event.refundMinor, 100);
  });
  test('a CLOSED or PAYERROR transaction is trade.closed; a refund ABNORMAL is refund.failed', () => {
    for (const trade_state of ['CLOSED', 'PAYERROR']) {
      const v = verifyNotification(notification('TRANSACTION.PAYERROR', { ...tx, trade_state }), keys);
      assert.deepEqual(v.ok && v.event, { type: 'trade.closed', outTradeNo: 'T_000001' });
    }
    const r = { mchid: keys.mchId, out_trade_no: 'T_000001', out_refund_no: 'R_1', refund_status: 'ABNORMAL' };
    const v = verifyNotification(notification('REFUND.ABNORMAL', r), keys);
    assert.deepEqual(v.ok && v.event, {
      type: 'refund.failed',
      outTradeNo: 'T_000001',
      outRefundNo: 'R_1',
      providerCode: 'ABNORMAL',
    });
  });
  test('an event type it does not know, or a SUCCESS without its amount, is refused, not guessed', () => {
    assert.equal(verifyNotification(notification('MARKETING.X', tx), keys).ok, false);
    const { amount: _amount, ...noAmount } = tx;
    assert.equal(verifyNotification(notification('TRANSACTION.SUCCESS', noAmount), keys).ok, false);
  });
  test('a changed body, an unknown serial, a stale timestamp or another merchant is refused 4xx', () => {
    const good = notification('TRANSACTION.SUCCESS', tx);
    const tampered = { ...good, body: Buffer.from(good.body.toString().replace('EV-1', 'EV-2')) };
    assert.equal(verifyNotification(tampered, keys).ok, false);
    assert.equal(verifyNotification(notification('TRANSACTION.SUCCESS', tx, now, 'PUB_KEY_ID_X'), keys).ok, false);
    const stale = verifyNotification(notification('TRANSACTION.SUCCESS', tx, new Date(now.getTime() - 301_000)), keys);
    assert.deepEqual([stale.ok, stale.answer.status], [false, 400]);
    for (const other of [{ mchid: '1900000002' }, { appid: 'wx0000000000000002' }]) {
      const v = verifyNotification(notification('TRANSACTION.SUCCESS', { ...tx, ...other }), keys);
      assert.equal(v.ok, false);
      assert.match(v.ok ? '' : v.reason, /not this merchant's/);
    }
  });
});
