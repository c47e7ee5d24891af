import type { Checkout } from '../settlement/checkout-store.ts';

// What the rails offer the checkout page: declared here, beside the factory that builds it
// (create-rail-payments.ts), and read by the page, which is built on the rails.

/** A money rail the page offers (every rail that is on), as a person reads it. */
export interface RailChoice {
  rail: string;
  title: { 'zh-CN': string; en: string };
  /** A development gateway: the page says no real money moves. */
  dev: boolean;
  /** Whether the rail signs quick-pay agreements (the form then offers quick pay once the phone is proven). */
  agreements: boolean;
}

/** What the page needs of the money rails: those on, how to start a trade on a rail's page, and how to ask about it. */
export interface CheckoutRails {
  choices: readonly RailChoice[];
  /** Where the page's forms may lead (the rails' payment pages): the page's CSP `form-action` allows them. */
  formActions: readonly string[];
  /** Where the payer comes back to after the rail's page (the page's public origin). */
  publicUrl: string;
  /** `sign`: the payer ticked quick pay (possession proven), so the trade also signs the rail's agreement. */
  startPage(
    checkout: Checkout,
    rail: string,
    page: { returnUrl: string; payerClientIp: string; sign?: boolean },
  ): Promise<string>;
  /** The payer is back from a rail's page: its trades are asked about now, not only by the sweeper. */
  returned(orderId: string): Promise<void>;
}
