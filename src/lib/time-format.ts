const formats = new Map<string, Intl.DateTimeFormat>();

/**
 * A time for people in a language and time zone (the business one), 24-hour, to the minute or the
 * second: the one formatter of the checkout page and the consoles. A formatter is costly to make,
 * so there is one per language, zone and precision.
 */
export function formatTime(iso: string, lang: string, timeZone: string, seconds = false): string {
  const key = `${lang} ${timeZone} ${seconds}`;
  let f = formats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(lang, {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      ...(seconds ? { second: '2-digit' } : {}),
      hourCycle: 'h23',
    });
    formats.set(key, f);
  }
  return f.format(new Date(iso));
}
