import { badRequest } from './errors.ts';

/** Minor-unit exponents of the currencies tvpay accepts (ISO 4217). */
const EXPONENTS: Record<string, number> = { CNY: 2, HKD: 2, USD: 2, EUR: 2, GBP: 2, JPY: 0, KRW: 0 };

export const SUPPORTED_CURRENCIES = Object.keys(EXPONENTS);
export const MAX_AMOUNT_MINOR = 100_000_000;

export function assertCurrency(currency: string): void {
  if (!(currency in EXPONENTS)) {
    throw badRequest(
      'CURRENCY_UNSUPPORTED',
      `Currency ${currency} is not supported; use one of ${SUPPORTED_CURRENCIES.join(', ')}.`,
    );
  }
}

export { formatMinor } from './money-format.ts';
