/** What an SMS link (SMPP) hands a service: phones' replies and delivery receipts. */
export interface SmsInbox {
  message(m: { from: string; to: string; text: string }): Promise<void>;
  receipt(gatewayId: string, status: 'delivered' | 'failed'): Promise<void>;
}

/**
 * The inbox a gateway is built with before the service that reads it exists
 * (the gateway is one of the service's parts): what arrives before the
 * service is attached waits, and is handed over, in order, when it is; an
 * SMSC may deliver queued replies the moment it binds, and none is lost.
 */
export class DeferredInbox implements SmsInbox {
  private target: SmsInbox | undefined;
  private readonly waiting: Array<(t: SmsInbox) => Promise<void>> = [];

  constructor(private readonly defaults: Partial<SmsInbox> = {}) {}

  /** Hands everything that waited to `target`, then everything that comes. */
  async attach(target: Partial<SmsInbox>): Promise<void> {
    this.target = {
      message: target.message ?? this.defaults.message ?? (async () => {}),
      receipt: target.receipt ?? this.defaults.receipt ?? (async () => {}),
    };
    for (const deliver of this.waiting.splice(0)) await deliver(this.target);
  }

  message(m: { from: string; to: string; text: string }): Promise<void> {
    if (this.defaults.message && !this.target) return this.defaults.message(m);
    return this.target ? this.target.message(m) : this.wait((t) => t.message(m));
  }

  receipt(gatewayId: string, status: 'delivered' | 'failed'): Promise<void> {
    return this.target ? this.target.receipt(gatewayId, status) : this.wait((t) => t.receipt(gatewayId, status));
  }

  private wait(deliver: (t: SmsInbox) => Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => this.waiting.push((t) => deliver(t).then(resolve, reject)));
  }
}
