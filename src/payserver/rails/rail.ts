/**
 * The money rail seam of the payment server: "where the money comes from" when it comes from outside
 * tvpay's own ledger (Alipay, WeChat Pay). Everything the patent gives the payment server (the SMS
 * confirmation, the checkout page, quick-pay agreements, refunds, renewals, statements and "one order
 * settles once") is written once above this seam; a rail only speaks its provider's protocol.
 *
 * Amounts cross this seam as integer minor units (fen). A rail converts them to the provider's own
 * format (yuan strings, `amount.total`) at its edge and back again, and refuses anything it cannot
 * convert exactly.
 *
 * Every call answers with a discriminated outcome instead of throwing for what a provider may say. An
 * answer whose outcome was not learnt (a time-out, a network error, Alipay's `10003`/`20000`, WeChat Pay's
 * `USERPAYING` or a 5xx) is `unknown`: the caller settles it by `query`, never by charging again. A
 * rail throws only on a bug of ours (a programming error), never on a provider's answer.
 */

/** The rails a payment server can take money through, besides its own wallet and card. */
export const RAIL_NAMES = ['alipay', 'wechatpay'] as const;
export type RailName = (typeof RAIL_NAMES)[number];

/** What every trade carries: tvpay's number for it, what is bought, how much and until when. */
export interface TradeTerms {
  /** tvpay's trade number, unique per rail payment attempt (a rail checks its own length and alphabet rules). */
  outTradeNo: string;
  amountMinor: number;
  currency: 'CNY';
  /** The product's title (Alipay's `subject`, WeChat Pay's `description`). */
  subject: string;
  /** No trade may outlive its order: sent as `time_expire`. */
  expiresAt: Date;
}

/** How a trade is started. */
export type StartRequest =
  /** A code the TV shows for the app to scan: `alipay.trade.precreate`, `/v3/pay/transactions/native`. */
  | (TradeTerms & { kind: 'qr' })
  /**
   * A payment page the phone is redirected to: `alipay.trade.wap.pay`, `/v3/pay/transactions/h5`.
   * With `sign`, the same payment also signs a quick-pay agreement keyed by tvpay's external number
   * (Alipay `agreement_sign_params`, WeChat Pay's contract while paying).
   */
  | (TradeTerms & {
      kind: 'redirect';
      returnUrl: string;
      payerClientIp: string;
      sign?: { externalAgreementNo: string; phone: string };
    })
  /**
   * A merchant-initiated charge under a signed agreement, with no page: Alipay `alipay.trade.pay` with
   * `product_code` `GENERAL_WITHHOLDING` and `agreement_params.agreement_no`; WeChat Pay papay
   * `/v3/papay/pay/transactions/apply`.
   */
  | (TradeTerms & { kind: 'agreement_charge'; agreementNo: string });

/** What a start learnt. */
export type StartOutcome =
  | { state: 'qr'; qrText: string }
  | { state: 'redirect'; url: string }
  /** The provider took the money synchronously (Alipay's `trade.pay` answering `10000` / `TRADE_SUCCESS`). */
  | { state: 'paid'; paid: PaidTrade }
  /** Accepted, outcome to come by notification or query (WeChat papay apply, Alipay `ACQ.USERPAYING`-like waits). */
  | { state: 'charging' }
  /** A definite refusal: nothing was taken. `code` is tvpay's (`INSUFFICIENT_FUNDS`, …), `providerCode` the rail's. */
  | { state: 'failed'; code: string; providerCode: string; message: string }
  /** The outcome was not learnt: ask with `query`. */
  | { state: 'unknown'; reason: string };

/** A trade the provider says is paid. */
export interface PaidTrade {
  outTradeNo: string;
  /** The provider's own trade number (Alipay `trade_no`, WeChat Pay `transaction_id`). */
  providerTradeNo: string;
  amountMinor: number;
  paidAt: Date;
  /** The payer at the provider, if told (Alipay `buyer_logon_id` masked, WeChat Pay `openid`); never a secret. */
  payer?: string;
}

/** What a query learnt about a trade. */
export type QueryOutcome =
  | { state: 'paid'; paid: PaidTrade }
  /** Created, scanned or waiting for the payer (`WAIT_BUYER_PAY`, `NOTPAY`, `USERPAYING`). */
  | { state: 'pending' }
  /** The provider has no such trade (an unscanned precreate: `ACQ.TRADE_NOT_EXIST`). */
  | { state: 'not_found' }
  /** Closed or failed without taking money (`TRADE_CLOSED` with nothing paid, `CLOSED`, `PAYERROR`, `REVOKED`). */
  | { state: 'closed' }
  /** Paid and then refunded in full at the provider (`TRADE_CLOSED` after a refund, `REFUND`). */
  | { state: 'refunded'; paid: PaidTrade }
  | { state: 'unknown'; reason: string };

export type CloseOutcome =
  /** Closed now, already closed, or never existed: it can no longer take money. */
  | { state: 'closed' }
  /** Too late: it was paid (the caller settles or refunds it, as for a notification). */
  | { state: 'paid' }
  | { state: 'unknown'; reason: string };

export interface RefundRequest {
  outTradeNo: string;
  /** tvpay's refund id: Alipay `out_request_no`, WeChat Pay `out_refund_no`; the same on every retry. */
  outRefundNo: string;
  refundMinor: number;
  /** The trade's whole amount (WeChat Pay requires it). */
  totalMinor: number;
  reason: string;
}

export type RefundOutcome =
  | { state: 'succeeded'; providerRefundNo?: string; at: Date }
  /** Accepted, not yet done (WeChat Pay `PROCESSING`): ask with `queryRefund`. */
  | { state: 'pending' }
  | { state: 'failed'; code: string; providerCode: string; message: string }
  | { state: 'unknown'; reason: string };

/** A verified event from a provider's notification. */
export type RailEvent =
  | { type: 'trade.paid'; paid: PaidTrade }
  /** A trade closed without money (WeChat Pay `CLOSED`, Alipay `TRADE_CLOSED` with nothing paid). */
  | { type: 'trade.closed'; outTradeNo: string }
  | { type: 'refund.succeeded'; outTradeNo: string; outRefundNo: string; refundMinor: number; at: Date }
  | { type: 'refund.failed'; outTradeNo: string; outRefundNo: string; providerCode: string }
  /** A quick-pay agreement counts from here (Alipay `dut_user_sign` `NORMAL`, WeChat Pay contract `ADD`). */
  | {
      type: 'agreement.signed';
      externalAgreementNo: string;
      /** The provider's number for it, used to charge (Alipay `agreement_no`, WeChat Pay `contract_id`). */
      agreementNo: string;
      at: Date;
    }
  /** Ended at the provider or by the payer (`dut_user_unsign`, contract `DELETE`). */
  | { type: 'agreement.ended'; externalAgreementNo: string; agreementNo: string; at: Date };

/**
 * A notification's verdict. The answer is what the provider must be told (Alipay: the body `success`
 * or anything else; WeChat Pay: a 2xx, or a 4xx/5xx with `{code, message}`), sent whatever the verdict.
 */
export type NotificationVerdict =
  | { ok: true; event: RailEvent; answer: NotificationAnswer }
  | { ok: false; reason: string; answer: NotificationAnswer };

export interface NotificationAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** The raw HTTP request of a notification: verified over exactly these bytes. */
export interface RawNotification {
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer;
}

/** One line of a provider's bill for a business day, in fen. */
export interface BillLine {
  kind: 'payment' | 'refund';
  outTradeNo: string;
  providerTradeNo: string;
  /** For a refund: tvpay's refund id. */
  outRefundNo?: string;
  amountMinor: number;
  at: Date;
}

export type BillOutcome = { state: 'ok'; lines: BillLine[] } | { state: 'unavailable'; reason: string };

/**
 * A rail: one provider's protocol, through its official SDK. It holds no state of tvpay's and writes
 * nothing to tvpay's stores; the payment server records what it learns, and applies each event once.
 */
export interface Rail {
  readonly name: RailName;
  /** What a person reads (`支付宝` / `Alipay`, `微信支付` / `WeChat Pay`). */
  readonly title: { 'zh-CN': string; en: string };
  /** `dev`: the embedded development gateway, no real money; `live`: the provider. */
  readonly mode: 'dev' | 'live';
  /** Whether it can sign quick-pay agreements (WeChat Pay needs a papay plan id). */
  readonly agreements: boolean;
  start(request: StartRequest): Promise<StartOutcome>;
  query(outTradeNo: string): Promise<QueryOutcome>;
  close(outTradeNo: string): Promise<CloseOutcome>;
  refund(request: RefundRequest): Promise<RefundOutcome>;
  queryRefund(outTradeNo: string, outRefundNo: string): Promise<RefundOutcome>;
  /** Ends an agreement at the provider (the payer's `TD`, or an operator). */
  unsign(agreement: { externalAgreementNo: string; agreementNo: string }): Promise<{ state: 'ended' | 'unknown' }>;
  /**
   * The number this rail knows tvpay's refund by (in its answers, notifications and bill): the refund id
   * itself where the rail's alphabet takes it, else a stable derivation of it (Alipay's `out_request_no`
   * takes no `-`). Reconciliation matches a bill's refund lines by it.
   */
  outRefundNoOf(refundId: string): string;
  /** Verifies (signature, timestamp, app id or merchant id), decrypts and parses one notification. */
  parseNotification(raw: RawNotification): Promise<NotificationVerdict>;
  /** The provider's trade bill for a business day (`YYYY-MM-DD`, Asia/Shanghai), parsed. */
  bill(day: string): Promise<BillOutcome>;
}
