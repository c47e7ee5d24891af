import { handler } from '../../lib/outbox/outbox.ts';
import type { CheckoutRails } from './checkout-rails.ts';
import { serviceBasics, type Offers, type PayserverCore } from '../feature.ts';
import type { Settlement } from '../settlement/settlement.ts';
import { RailPayments, type RailPaymentsDeps } from './rail-payments.ts';
import { RAIL_CHARGE_TOPIC, RAIL_CLOSE_TOPIC } from '../rails/rail-topics.ts';
import { railAdminRoutes } from './rails-admin-routes.ts';
import { railInternalRoutes, railNotifyRoutes } from './rails-routes.ts';
import type { RailRegistry } from '../rails/registry.ts';

/**
 * Payments by the money rails that are on: the TV's QR code, the checkout page's rail forms, the rails'
 * notifications, charges under an agreement, closing an ended order's trades, and the sweep that asks
 * every open trade.
 */
export function createRailPayments(
  core: Pick<PayserverCore, 'db' | 'random' | 'clock' | 'work' | 'config'>,
  deps: {
    rails: RailRegistry;
    settlement: Settlement;
    agreements: RailPaymentsDeps['agreements'];
    onRefundEvent: NonNullable<RailPaymentsDeps['onRefundEvent']>;
  },
) {
  const { rails } = deps;
  const service = new RailPayments({ ...deps, ...serviceBasics(core) });
  return {
    service,
    /** What the checkout page offers of the rails, if any is on. */
    checkout: rails.on.length ? checkoutRails(rails, service, core.config.publicUrls) : undefined,
    admin: (scope) => railAdminRoutes(scope, core.db, rails),
    internal: (app, signed) => railInternalRoutes(app, { rails, payments: service, signed }),
    open: (app) => railNotifyRoutes(app, { rails, payments: service }),
    handlers: [
      handler(RAIL_CLOSE_TOPIC, (p) => service.close(p)),
      handler(RAIL_CHARGE_TOPIC, (p) => service.charge(p)),
    ],
    sweep: () => service.sweep(),
  } satisfies Offers;
}

/** What the checkout page needs of the rails that are on. */
function checkoutRails(
  rails: RailRegistry,
  payments: Pick<RailPayments, 'startPage' | 'returned'>,
  publicUrls: { payserver: string; carrier: string },
): CheckoutRails {
  const devRail = rails.on.some((r) => r.mode === 'dev');
  return {
    choices: rails.on.map((r) => ({ rail: r.name, title: r.title, dev: r.mode === 'dev', agreements: r.agreements })),
    // The rails' payment pages are on https; a development gateway's on the carrier's server.
    formActions: ['https:', ...(devRail ? [new URL(publicUrls.carrier).origin] : [])],
    publicUrl: publicUrls.payserver,
    startPage: (checkout, rail, page) => payments.startPage(checkout, rail, page),
    returned: (orderId) => payments.returned(orderId),
  };
}
