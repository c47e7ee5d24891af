/** One SMS to send; `ref` is our id for it, echoed back in delivery reports. */
export interface OutgoingSms {
  ref: string;
  to: string;
  from: string;
  text: string;
}

/**
 * How tvpay sends SMS. An interface of ours, so the development carrier,
 * Kannel and an SMPP link are interchangeable behind it.
 */
export interface SmsGateway {
  /** Hands the SMS to the gateway; resolves once the gateway accepted it, throws to be retried. */
  send(sms: OutgoingSms): Promise<{ gatewayId?: string }>;
}
