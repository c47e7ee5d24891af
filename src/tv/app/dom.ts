type Child = Node | string | null | undefined | false;

/** Builds an element: h('button', { class: 'x', 'data-focusable': '' }, 'text'). */
export function h(
  tag: string,
  attrs: Record<string, string | number | boolean | ((e: Event) => void) | undefined> = {},
  ...children: Child[]
): HTMLElement {
  const el = document.createElement(tag);
  for (const key of Object.keys(attrs)) {
    const v = attrs[key];
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(key.replace(/^on/, ''), v as EventListener);
    else el.setAttribute(key, v === true ? '' : String(v));
  }
  for (const c of children)
    if (c !== null && c !== undefined && c !== false)
      el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

/** A focusable button that does `action` on OK. */
export function button(label: string, action: () => void, extra: Record<string, string> = {}): HTMLElement {
  return h(
    'button',
    {
      type: 'button',
      class: `btn ${extra.class || ''}`,
      'data-focusable': true,
      tabindex: -1,
      onclick: action,
      ...omit(extra, 'class'),
    },
    label,
  );
}

function omit(o: Record<string, string>, key: string) {
  const out: Record<string, string> = {};
  for (const k of Object.keys(o)) if (k !== key) out[k] = o[k]!;
  return out;
}

export { formatPrice as money } from '../../lib/money-format.ts';

/** The business time zone: a day on the TV is the operator's day, whatever zone the TV itself is set to. */
const BUSINESS_TIME_ZONE = 'Asia/Shanghai';
/** Its offset from UTC (no daylight saving there since 1991), for a TV whose Intl has no time zones. */
const BUSINESS_OFFSET_MS = 8 * 3600_000;

/** The calendar day (YYYY-MM-DD) of an instant in the business time zone, not UTC's. */
export function date(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso.slice(0, 10);
  try {
    // en-CA writes dates as YYYY-MM-DD.
    const day = new Intl.DateTimeFormat('en-CA', {
      timeZone: BUSINESS_TIME_ZONE,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    }).format(new Date(t));
    if (/^\d{4}-\d\d-\d\d$/.test(day)) return day;
  } catch {
    // An old TV browser without time zones: the fixed offset below says the same.
  }
  return new Date(t + BUSINESS_OFFSET_MS).toISOString().slice(0, 10);
}

/** "13800138000" → "138 0013 8000" as it is typed. */
export function groupPhone(digits: string): string {
  return [digits.slice(0, 3), digits.slice(3, 7), digits.slice(7, 11)].filter(Boolean).join(' ');
}
