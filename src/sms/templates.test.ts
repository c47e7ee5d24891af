import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countSegments, isGsm7 } from './segments.ts';
import {
  codeSms,
  linkSms,
  nothingToCancelSms,
  refundSms,
  renewalFailedSms,
  renewalNoticeSms,
  renewalReceiptSms,
  replyAnswerSms,
  subscriptionCancelledSms,
} from './templates.ts';

describe('SMS segments', () => {
  it('counts GSM-7 at 160/153 and UCS-2 at 70/67', () => {
    assert.equal(countSegments('a'.repeat(160)), 1);
    assert.equal(countSegments('a'.repeat(161)), 2);
    assert.equal(countSegments('a'.repeat(306)), 2);
    assert.equal(countSegments('a'.repeat(307)), 3);
    assert.equal(countSegments('中'.repeat(70)), 1);
    assert.equal(countSegments('中'.repeat(71)), 2);
    assert.equal(countSegments('中'.repeat(134)), 2);
    assert.equal(countSegments('中'.repeat(135)), 3);
    assert.equal(isGsm7('Pay 200.00 CNY'), true);
    assert.equal(isGsm7('金额'), false);
  });
});

describe('SMS templates', () => {
  const base = { amountMinor: 20000, currency: 'CNY', payee: 'tvpay', code: '384912' };
  it('says how long the code is valid, to ignore it if not you, in one SMS with a 12-character payee and card', () => {
    const text = codeSms('zh-CN', { ...base, product: '会员包年', source: 'card', cardLast4: '5678', minutes: 10 });
    assert.match(text, /会员包年/);
    assert.match(text, /10分钟内有效/);
    assert.match(text, /如非本人操作请忽略/);
    assert.match(text, /尾号5678/);
    assert.match(text, /200\.00元/);
    assert.match(text, /384912/);
    assert.equal(countSegments(text), 1);
    // The longest payee: the product title gives way, never the amount, code or payee.
    const long = codeSms('zh-CN', {
      ...base,
      payee: '某某某某某某某某某某某某',
      product: '会员包年',
      source: 'card',
      cardLast4: '5678',
      minutes: 10,
    });
    assert.equal(countSegments(long), 1);
    assert.match(long, /200\.00元.*384912.*【某某某某某某某某某某某某】/);
    const renewing = codeSms('zh-CN', { ...base, product: '4K会员连续包月', source: 'wallet', renewsEveryDays: 30 });
    assert.match(renewing, /每30天/);
    assert.match(renewing, /TD/);
    assert.ok(countSegments(renewing) <= 2, 'countSegments(renewing) <= 2');
  });
  it('writes the patent code SMS with product, amount, payee and code in one SMS', () => {
    const text = codeSms('zh-CN', { ...base, product: '会员包年', source: 'wallet' });
    assert.match(text, /会员包年/);
    assert.match(text, /200\.00元/);
    assert.match(text, /384912/);
    assert.match(text, /tvpay/);
    assert.ok(text.length <= 70, text);
  });
  it('says when the card pays because the wallet is short', () => {
    const text = codeSms('zh-CN', { ...base, product: '会员包年', source: 'card', cardLast4: '5678' });
    assert.match(text, /余额不足/);
    assert.match(text, /5678/);
    assert.equal(countSegments(text), 1);
  });
  it('shortens a long product title, never the code or amount, to stay one SMS', () => {
    const product = '超级无敌豪华至尊全家桶会员包年加送四十二个频道和全部体育赛事直播回看';
    for (const locale of ['zh-CN', 'en'] as const) {
      for (const source of ['wallet', 'card'] as const) {
        const text = codeSms(locale, { ...base, product, source, cardLast4: '5678' });
        assert.equal(countSegments(text), 1, text);
        assert.match(text, /384912/);
        assert.match(text, /200\.00/);
      }
    }
  });
  it('keeps the link SMS within two SMS with the whole link', () => {
    const url = 'https://pay.example.com/pay/JEU_Z8Sc-c5DdREmopQBQ2w7IrNI-0marzV5U_CVsdA';
    const text = linkSms('zh-CN', {
      amountMinor: 20000,
      currency: 'CNY',
      payee: 'tvpay',
      product: '会员包年'.repeat(20),
      url,
    });
    assert.ok(countSegments(text) <= 2, text);
    assert.ok(text.includes(url), 'text.includes(url)');
  });
});

describe('splitting into segments', () => {
  it('splits by encoding units, an extended GSM character counting twice, never inside a character', async () => {
    const { splitSegments, SEGMENT_UNITS } = await import('./segments.ts');
    const gsm = splitSegments('€'.repeat(100));
    assert.equal(gsm.encoding, 'gsm7');
    assert.deepEqual(
      gsm.parts.map((p) => p.length),
      [76, 24],
      '€ takes two septets: 76 in a 153-septet part',
    );
    const ucs = splitSegments('支付'.repeat(40) + '🙂');
    assert.equal(ucs.encoding, 'ucs2');
    assert.ok(
      ucs.parts.every((p) => p.length <= SEGMENT_UNITS.ucs2.multi),
      'ucs.parts.every((p) => p.length <= SEGMENT_UNITS.ucs2.multi)',
    );
    assert.equal(ucs.parts.join(''), '支付'.repeat(40) + '🙂');
    assert.deepEqual(splitSegments('hello').parts, ['hello']);
  });
});

describe('Chinese SMS typography', () => {
  it('quotes with Chinese quotation marks, never straight ASCII quotes', () => {
    const p = { amountMinor: 2500, currency: 'CNY', payee: 'tvpay', product: '会员包月' };
    const texts = [
      renewalNoticeSms('zh-CN', { ...p, date: '12月6日' }),
      renewalNoticeSms('zh-CN', { ...p, date: '12月6日', previousMinor: 2000 }),
      renewalReceiptSms('zh-CN', { ...p, source: 'card', cardLast4: '5678', orderId: 'ord-0123456789' }),
      renewalFailedSms('zh-CN', { ...p, retryDate: '12月7日' }),
      refundSms('zh-CN', { ...p, source: 'wallet', orderId: 'ord-0123456789' }),
      subscriptionCancelledSms('zh-CN', { product: p.product, payee: p.payee, until: '12月31日' }),
      nothingToCancelSms('zh-CN', { payee: p.payee }),
      codeSms('zh-CN', { ...p, code: '384912', source: 'wallet', minutes: 10 }),
      ...(['wrong_code', 'confirmation_failed', 'order_closed', 'no_pending', 'no_code'] as const).map((k) =>
        replyAnswerSms('zh-CN', k, { payee: p.payee, triesLeft: 2 }),
      ),
    ];
    for (const text of texts) assert.doesNotMatch(text, /["']/, text);
    assert.match(texts[0]!, /“我的服务”/);
  });
});
