/** Tables every service has: the outbox, idempotency keys, rate-limit windows and seen nonces. */
export interface CommonTables {
  outbox: {
    id: string;
    topic: string;
    payload: string;
    status: string;
    attempts: number;
    next_attempt_at: string;
    locked_until: string | null;
    last_error: string | null;
    created_at: string;
    done_at: string | null;
    /** The correlation id it was queued under: its delivery runs, logs and calls the peer under it. */
    correlation_id: string | null;
  };
  idempotency_keys: {
    scope: string;
    idem_key: string;
    request_hash: string;
    state: string;
    response_status: number | null;
    response_body: string | null;
    created_at: string;
  };
  rate_limits: {
    bucket: string;
    window_start: string;
    hits: number;
  };
  seen_nonces: {
    nonce: string;
    seen_at: string;
  };
  sms_messages: {
    id: string;
    kind: string;
    /** What the SMS is for (the payment a code SMS confirms), to act on its delivery report. */
    ref: string | null;
    /** The gateway's id for it (an SMSC message id), to match its delivery receipt. */
    gateway_id: string | null;
    to_phone: string;
    sender: string;
    status: string;
    created_at: string;
    updated_at: string;
  };
}
