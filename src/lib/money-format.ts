/**
 * Money as people read it, from integer minor units, by `Intl.NumberFormat`:
 * the one formatter of the server, the SMS, the checkout page and the TV app
 * (it imports nothing, so the TV bundle can take it). The number of decimals
 * is the currency's own (2 for CNY, 0 for JPY), never assumed.
 */

const decimalsCache = new Map<string, number>();

/** The currency's minor-unit digits (ISO 4217), as Intl knows them. */
export function minorDigits(currency: string): number {
  let n = decimalsCache.get(currency);
  if (n === undefined) {
    n = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    decimalsCache.set(currency, n);
  }
  return n;
}

const plainCache = new Map<number, Intl.NumberFormat>();

/** 20000 CNY → "200.00": the amount as a plain decimal, without grouping or symbol. */
export function formatMinor(amountMinor: number, currency: string): string {
  const digits = minorDigits(currency);
  // A formatter is costly to make (a console page of 25 orders spent a tenth of its time making them): one per number
  // of decimals.
  let f = plainCache.get(digits);
  if (!f) {
    f = new Intl.NumberFormat('en', {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
      useGrouping: false,
    });
    plainCache.set(digits, f);
  }
  return f.format(amountMinor / 10 ** digits);
}

/** 20000 CNY → "¥200.00" (the symbol where it is unambiguous here, else the code before the amount). */
export function formatPrice(amountMinor: number, currency: string): string {
  return `${currency === 'CNY' ? '¥' : `${currency} `}${formatMinor(amountMinor, currency)}`;
}
