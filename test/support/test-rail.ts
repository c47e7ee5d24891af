import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type {
  CloseOutcome,
  NotificationVerdict,
  PaidTrade,
  QueryOutcome,
  Rail,
  RailName,
  RawNotification,
  RefundOutcome,
  RefundRequest,
  StartOutcome,
  StartRequest,
} from '../../src/payserver/rails/rail.ts';

/**
 * A provider for the tests of the payment server's rail core, until the development gateways
 * (src/dev-rails) are on main: it keeps each trade's state as a provider would (created, paid, closed,
 * refunds by out_refund_no), signs its notifications with a key of its own (HMAC-SHA256 over the raw
 * body) and verifies them, and answers `unknown` when told to, like a time-out. It implements the same
 * `Rail` seam as the real rails, so the payment server's code under test is the code that runs.
 */
export class TestRail implements Rail {
  readonly mode = 'dev' as const;
  readonly agreements = true;
  /** Agreements asked for with a page trade, by tvpay's external number; a signed one has the provider's number. */
  readonly agreementsAsked = new Map<string, { agreementNo?: string }>();
  outRefundNoOf(refundId: string): string {
    return refundId;
  }
  readonly title: { 'zh-CN': string; en: string };
  private readonly key = randomBytes(32);
  readonly trades = new Map<
    string,
    { amountMinor: number; state: 'created' | 'paid' | 'closed'; providerTradeNo?: string; paidAt?: Date }
  >();
  readonly refunds = new Map<string, { outTradeNo: string; refundMinor: number }>();
  /** Every call made, in order: `start:qr`, `query`, `close`, `refund`… */
  readonly calls: string[] = [];
  /** The next answers of a kind: `unknown` makes the call's outcome not learnt. */
  readonly script: { start: string[]; query: string[]; close: string[]; refund: string[] } = {
    start: [],
    query: [],
    close: [],
    refund: [],
  };

  constructor(readonly name: RailName) {
    this.title = { 'zh-CN': name, en: name };
  }

  async start(request: StartRequest): Promise<StartOutcome> {
    this.calls.push(`start:${request.kind}`);
    if (request.kind === 'redirect' && request.sign) this.agreementsAsked.set(request.sign.externalAgreementNo, {});
    if (request.kind === 'agreement_charge') return this.charge(request);
    if (this.script.start.shift() === 'unknown') {
      this.trades.set(request.outTradeNo, { amountMinor: request.amountMinor, state: 'created' });
      return { state: 'unknown', reason: 'time-out' };
    }
    this.trades.set(request.outTradeNo, { amountMinor: request.amountMinor, state: 'created' });
    if (request.kind === 'qr') return { state: 'qr', qrText: `https://qr.test/${this.name}/${request.outTradeNo}` };
    if (request.kind === 'redirect')
      return { state: 'redirect', url: `https://cashier.test/${this.name}?trade=${request.outTradeNo}` };
    return { state: 'charging' };
  }

  /**
   * A charge under an agreement: paid at once if the agreement was signed. Told `unknown`, the provider takes
   * the money all the same but the answer is lost (a time-out), so only a query can learn it.
   */
  private charge(request: Extract<StartRequest, { kind: 'agreement_charge' }>): StartOutcome {
    const signed = [...this.agreementsAsked.values()].some((a) => a.agreementNo === request.agreementNo);
    if (!signed) return { state: 'failed', code: 'RAIL_REFUSED', providerCode: 'AGREEMENT_NOT_EXIST', message: '' };
    this.trades.set(request.outTradeNo, { amountMinor: request.amountMinor, state: 'created' });
    this.pay(request.outTradeNo);
    if (this.script.start.shift() === 'unknown') return { state: 'unknown', reason: 'time-out' };
    return { state: 'paid', paid: this.paid(request.outTradeNo) };
  }

  /** The payer signs the agreement asked for: the provider's notification that it counts. */
  signAgreement(externalAgreementNo: string): RawNotification {
    const asked = this.agreementsAsked.get(externalAgreementNo);
    if (!asked) throw new Error(`no agreement ${externalAgreementNo} was asked for`);
    asked.agreementNo = `A${randomBytes(8).toString('hex')}`;
    return this.notification({ type: 'agreement.signed', externalAgreementNo, agreementNo: asked.agreementNo });
  }

  /** The payer ends the agreement in the provider's app: the provider's notification of it. */
  endAgreement(externalAgreementNo: string): RawNotification {
    const agreementNo = this.agreementsAsked.get(externalAgreementNo)?.agreementNo;
    this.agreementsAsked.delete(externalAgreementNo);
    return this.notification({ type: 'agreement.ended', externalAgreementNo, agreementNo });
  }

  /** The payer pays at the provider: the trade is paid, and the notification the provider would send is returned. */
  pay(outTradeNo: string, amountMinor?: number): RawNotification {
    const trade = this.trades.get(outTradeNo);
    if (!trade || trade.state !== 'created') throw new Error(`cannot pay ${outTradeNo}: ${trade?.state}`);
    trade.state = 'paid';
    trade.providerTradeNo = `P${randomBytes(8).toString('hex')}`;
    trade.paidAt = new Date();
    return this.notification({
      type: 'trade.paid',
      outTradeNo,
      providerTradeNo: trade.providerTradeNo,
      amountMinor: amountMinor ?? trade.amountMinor,
    });
  }

  /** A signed notification of this provider carrying `event`. */
  notification(event: Record<string, unknown>): RawNotification {
    const body = Buffer.from(JSON.stringify(event));
    return { headers: { 'content-type': 'application/json', 'x-test-signature': this.sign(body) }, body };
  }

  private sign(body: Buffer): string {
    return createHmac('sha256', this.key).update(body).digest('hex');
  }

  private paid(outTradeNo: string): PaidTrade {
    const t = this.trades.get(outTradeNo)!;
    return { outTradeNo, providerTradeNo: t.providerTradeNo!, amountMinor: t.amountMinor, paidAt: t.paidAt! };
  }

  async query(outTradeNo: string): Promise<QueryOutcome> {
    this.calls.push('query');
    if (this.script.query.shift() === 'unknown') return { state: 'unknown', reason: 'time-out' };
    const t = this.trades.get(outTradeNo);
    if (!t) return { state: 'not_found' };
    if (t.state === 'paid') return { state: 'paid', paid: this.paid(outTradeNo) };
    return t.state === 'closed' ? { state: 'closed' } : { state: 'pending' };
  }

  async close(outTradeNo: string): Promise<CloseOutcome> {
    this.calls.push('close');
    if (this.script.close.shift() === 'unknown') return { state: 'unknown', reason: 'time-out' };
    const t = this.trades.get(outTradeNo);
    if (t?.state === 'paid') return { state: 'paid' };
    if (t) t.state = 'closed';
    return { state: 'closed' };
  }

  async refund(request: RefundRequest): Promise<RefundOutcome> {
    this.calls.push('refund');
    const known = this.refunds.get(request.outRefundNo);
    if (!known) {
      const t = this.trades.get(request.outTradeNo);
      if (t?.state !== 'paid')
        return { state: 'failed', code: 'PAYMENT_NOT_FOUND', providerCode: 'NOPAY', message: '' };
      this.refunds.set(request.outRefundNo, { outTradeNo: request.outTradeNo, refundMinor: request.refundMinor });
    }
    if (this.script.refund.shift() === 'unknown') return { state: 'unknown', reason: 'time-out' };
    return { state: 'succeeded', providerRefundNo: `R${request.outRefundNo}`, at: new Date() };
  }

  async queryRefund(_outTradeNo: string, outRefundNo: string): Promise<RefundOutcome> {
    this.calls.push('queryRefund');
    return this.refunds.has(outRefundNo)
      ? { state: 'succeeded', providerRefundNo: `R${outRefundNo}`, at: new Date() }
      : { state: 'failed', code: 'REFUND_NOT_FOUND', providerCode: 'NOTFOUND', message: '' };
  }

  async unsign(): Promise<{ state: 'ended' | 'unknown' }> {
    return { state: 'ended' };
  }

  async parseNotification(raw: RawNotification): Promise<NotificationVerdict> {
    const fail = (reason: string): NotificationVerdict => ({
      ok: false,
      reason,
      answer: { status: 400, contentType: 'text/plain', body: 'fail' },
    });
    const given = Buffer.from(String(raw.headers['x-test-signature'] ?? ''), 'hex');
    const expected = Buffer.from(this.sign(raw.body), 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return fail('bad signature');
    const e = JSON.parse(raw.body.toString('utf8'));
    const answer = { status: 200, contentType: 'text/plain', body: 'success' };
    if (e.type === 'trade.paid')
      return {
        ok: true,
        answer,
        event: {
          type: 'trade.paid',
          paid: {
            outTradeNo: e.outTradeNo,
            providerTradeNo: e.providerTradeNo,
            amountMinor: e.amountMinor,
            paidAt: new Date(),
          },
        },
      };
    if (e.type === 'refund.succeeded') return { ok: true, answer, event: { ...e, at: new Date() } };
    if (e.type === 'agreement.signed' || e.type === 'agreement.ended')
      return {
        ok: true,
        answer,
        event: { type: e.type, externalAgreementNo: e.externalAgreementNo, agreementNo: e.agreementNo, at: new Date() },
      };
    return fail('unknown event');
  }

  async bill(): Promise<{ state: 'unavailable'; reason: string }> {
    return { state: 'unavailable', reason: 'no bills here' };
  }
}
