/** The development Alipay's own store (`<dataDir>/dev-alipay.db`): what Alipay would know of each merchant. */
export interface DevAlipayTables {
  trades: {
    trade_no: string;
    app_id: string;
    out_trade_no: string;
    /** `precreate`, `wap` or `withholding` (trade.pay under an agreement). */
    kind: string;
    subject: string;
    total_fen: number;
    /** `WAIT_BUYER_PAY`, `TRADE_SUCCESS`, `TRADE_CLOSED`. */
    status: string;
    /** 1 once the payer has opened it (scanned the QR, opened the cashier): Alipay knows it from then on. */
    seen: number;
    qr_code: string | null;
    notify_url: string | null;
    return_url: string | null;
    /** The wap.pay's agreement_sign_params, JSON, when the payment also signs an agreement. */
    agreement_sign: string | null;
    expire_at: string;
    created_at: string;
    paid_at: string | null;
    closed_at: string | null;
    buyer_logon_id: string | null;
    refunded_fen: number;
  };
  refunds: { trade_no: string; out_request_no: string; amount_fen: number; at: string };
  agreements: {
    agreement_no: string;
    app_id: string;
    external_agreement_no: string;
    sign_scene: string;
    /** `NORMAL` or `UNSIGN`. */
    status: string;
    balance_fen: number;
    notify_url: string | null;
    signed_at: string;
    unsigned_at: string | null;
  };
  notifications: {
    id: string;
    url: string;
    body: string;
    attempts: number;
    next_at: string;
    delivered_at: string | null;
  };
  bill_links: { token: string; app_id: string; day: string; expires_at: string };
}
