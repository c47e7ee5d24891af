/** The development WeChat Pay's own store (`<dataDir>/dev-wechatpay.db`), never tvpay's. */
export interface DevWechatpayTables {
  wx_transactions: {
    out_trade_no: string;
    transaction_id: string;
    /** `NATIVE`, `MWEB` (h5) or `PAP` (papay apply). */
    trade_type: string;
    appid: string;
    description: string;
    total: number;
    notify_url: string;
    /** ISO instant; `null` for papay. */
    time_expire: string | null;
    trade_state: string;
    /** The code_url's `pr`, or the h5 `prepay_id`. */
    access_key: string | null;
    contract_id: string | null;
    openid: string | null;
    success_time: string | null;
    refunded: number;
    created_at: string;
  };
  wx_refunds: {
    out_refund_no: string;
    refund_id: string;
    out_trade_no: string;
    refund: number;
    status: string;
    notify_url: string | null;
    created_at: string;
    success_time: string | null;
  };
  wx_contracts: {
    contract_id: string;
    out_contract_code: string;
    plan_id: string;
    openid: string;
    state: string;
    /** The payer's development balance in fen, what papay apply takes from. */
    balance: number;
    notify_url: string;
    signed_at: string;
    terminated_at: string | null;
  };
  wx_sign_sessions: {
    id: string;
    out_contract_code: string;
    plan_id: string;
    display_account: string;
    notify_url: string;
    return_url: string;
    created_at: string;
    used: number;
  };
  wx_notifications: {
    id: string;
    url: string;
    body: string;
    attempts: number;
    /** Epoch ms of the injected clock when the next attempt is due. */
    next_at: number;
    state: string;
    last_status: number | null;
  };
  wx_bill_tokens: { token: string; bill_date: string; created_at: string };
}
