import QRCode from 'qrcode';
import { ApiError, TvApi, type Entitlement, type Order, type Product, type Subscription } from './api.ts';
import { button, date, groupPhone, h, money } from './dom.ts';
import { keyOf } from './keys.ts';
import { FOCUSABLE, nextFocus } from './spatial-nav.ts';
import { TEXTS, type Lang } from './i18n.ts';

/**
 * The 10-foot TV app (claim 9): catalogue → package → phone number on an
 * on-screen keypad → "check your phone" (with a QR code of the pay link and
 * the time left) → live status → success or a failure to retry from.
 * Driven only by a remote: arrows, OK, Back and digits.
 */

type Screen =
  | { name: 'unprovisioned' }
  | { name: 'catalogue' }
  /** `activeUntil`: the service is already on until then, so buying extends it (said before paying). */
  | { name: 'detail'; product: Product; activeUntil?: string }
  /** `key`: this checkout's idempotency key, made once when the keypad opens and kept across retries. */
  | { name: 'phone'; product: Product; order?: Order; digits: string; error?: string; key: string }
  | { name: 'waiting'; product: Product; order: Order }
  | { name: 'success'; product: Product; order: Order; entitlement?: Entitlement }
  | { name: 'failure'; product: Product; reason: string }
  | { name: 'services'; list: Entitlement[]; subscriptions: Subscription[]; error?: boolean }
  /** Back on "check your phone": asked first, because a payment may be under way on the phone. */
  | { name: 'confirm-leave'; product: Product; order: Order }
  | { name: 'confirm-cancel'; subscription: Subscription; key: string };

const PHONE = /^1[3-9]\d{9}$/;
const stage = document.getElementById('stage')!;
let lang: Lang = (localStorage.getItem('tvpay.lang') as Lang) || 'zh-CN';
let t = TEXTS[lang];
let api: TvApi | null = null;
let products: Product[] = [];
let screen: Screen = { name: 'catalogue' };
let stopWatching: (() => void) | null = null;
let ticker: number | undefined;
/** A request of the checkout is in flight: OK is ignored until it answers (a double OK must not buy twice). */
let busy = false;

/** The package's name in the TV's language: the operator's words for it, else its title. */
function nameOf(p: Product): string {
  return p.localized[lang]?.title ?? p.title;
}

/** What the package gives, in the TV's language; nothing rather than words in the other language. */
function aboutOf(p: Product): string {
  const words = p.localized[lang];
  return words ? (words.description ?? '') : p.description;
}

/** A bought package's name in the TV's language, while it is on sale; else the title it was bought under. */
function titleOf(productId: string, bought: string): string {
  const p = products.filter((x) => x.productId === productId)[0];
  return p ? nameOf(p) : bought;
}

/** Where focus goes when the catalogue comes back: the package the viewer left, or the button they came from. */
let returnFocus: string | undefined;

function newKey(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.prototype.map.call(bytes, (b: number) => (b < 16 ? '0' : '') + b.toString(16)).join('');
}

/**
 * The device token: taken from `#device=` only when this TV has none yet, so a
 * link cannot switch a provisioned TV to another device; the fragment is
 * removed from the address either way.
 */
function provision(): string | null {
  const m = /device=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (m) history.replaceState(null, '', location.pathname);
  const stored = localStorage.getItem('tvpay.device');
  if (stored) return stored;
  if (m) localStorage.setItem('tvpay.device', m[1]!);
  return m ? m[1]! : null;
}

/** Scales the 1920×1080 stage to the screen and centres it: at 4:3 the bands above and below are equal. */
function fitStage() {
  const scale = Math.min(window.innerWidth / 1920, window.innerHeight / 1080);
  const x = (window.innerWidth - 1920 * scale) / 2;
  const y = (window.innerHeight - 1080 * scale) / 2;
  stage.style.transform = `translate(${x}px, ${y}px) scale(${scale})`;
}

function focus(el: HTMLElement | null) {
  if (!el) return;
  const old = stage.querySelector('.focused');
  if (old) old.classList.remove('focused');
  el.classList.add('focused');
  el.focus({ preventScroll: true } as FocusOptions);
}

/** Keeps focus on something visible: the remembered element, else the preferred one, else the first. */
function ensureFocus(preferred?: string) {
  const current = stage.querySelector('.focused') as HTMLElement | null;
  if (current && stage.contains(current)) return;
  focus(
    (preferred && (stage.querySelector(preferred) as HTMLElement)) ||
      (stage.querySelector(FOCUSABLE) as HTMLElement | null),
  );
}

function go(next: Screen) {
  // The order is still followed while the viewer is asked whether to cancel it, and behind the keypad of
  // "change number": a payment by the first phone that won the race still turns the TV to success.
  if (
    stopWatching &&
    next.name !== 'waiting' &&
    next.name !== 'confirm-leave' &&
    !(next.name === 'phone' && next.order)
  ) {
    stopWatching();
    stopWatching = null;
  }
  if (next.name !== 'waiting' && next.name !== 'confirm-leave') stopRails();
  if (ticker !== undefined) {
    clearInterval(ticker);
    ticker = undefined;
  }
  // Coming back to the catalogue, focus returns to where the viewer left it (leanback rows' focus memory).
  const from = screen;
  if (next.name === 'catalogue') {
    if (from.name === 'services') returnFocus = '#services';
    else if ('product' in from) returnFocus = `[data-product="${from.product.productId}"]`;
  }
  screen = next;
  render(next.name === 'catalogue' ? returnFocus : undefined);
}

function header(): HTMLElement {
  return h(
    'header',
    { class: 'bar' },
    h('div', { class: 'brand' }, t.brand),
    h(
      'div',
      { class: 'actions' },
      screen.name === 'catalogue' ? button(t.myServices, () => void showServices(), { id: 'services' }) : null,
      screen.name === 'catalogue' || screen.name === 'services'
        ? button(t.switchLang, switchLang, { id: 'lang' })
        : null,
    ),
  );
}

function switchLang() {
  lang = lang === 'zh-CN' ? 'en' : 'zh-CN';
  t = TEXTS[lang];
  localStorage.setItem('tvpay.lang', lang);
  document.documentElement.lang = lang;
  render('#lang');
}

/** Draws the screen the viewer is on, under the header and above the hint, and focuses its first choice. */
function render(preferred?: string) {
  stage.innerHTML = '';
  stage.setAttribute('data-screen', screen.name);
  const body = h('main', { class: `screen ${screen.name}` });
  stage.appendChild(header());
  stage.appendChild(body);
  const s = screen;
  const first = renderScreen(body, s);
  stage.appendChild(
    h(
      'footer',
      { class: 'hint' },
      screen.name === 'phone'
        ? t.keypadHelp
        : screen.name === 'waiting'
          ? t.backCancels
          : screen.name === 'catalogue'
            ? t.catalogueHint
            : t.backHint,
    ),
  );
  ensureFocus(preferred || first);
}

/** A screen of one name, as its renderer takes it. */
type ScreenNamed<N extends Screen['name']> = Extract<Screen, { name: N }>;

/**
 * Each screen's renderer and what to focus first on it (none where nothing waits for a key). On
 * confirm-cancel, keeping it is the safe default: a stray OK does not cancel.
 */
const SCREENS: { [N in Screen['name']]: [(body: HTMLElement, s: ScreenNamed<N>) => void, string | undefined] } = {
  unprovisioned: [renderUnprovisioned, undefined],
  catalogue: [renderCatalogue, '[data-product]'],
  detail: [renderDetail, '#buy'],
  phone: [renderPhone, '[data-key="1"]'],
  waiting: [renderWaiting, undefined],
  success: [renderSuccess, undefined],
  failure: [renderFailure, '#retry'],
  services: [renderServices, '#back'],
  'confirm-leave': [renderConfirmLeave, '#stay'],
  'confirm-cancel': [renderConfirmCancel, '#keep'],
};

/** Draws one screen into the page's body; answers what to focus first on it, if anything. */
function renderScreen(body: HTMLElement, s: Screen): string | undefined {
  const [render, focus] = SCREENS[s.name] as [(body: HTMLElement, s: Screen) => void, string | undefined];
  render(body, s);
  return focus;
}

/** A TV without a device token: what to ask the operator for. */
function renderUnprovisioned(body: HTMLElement) {
  body.appendChild(h('div', { class: 'panel center' }, h('h1', {}, t.unprovisioned), h('p', {}, t.unprovisionedHelp)));
}

/** The packages on sale, one card each. */
function renderCatalogue(body: HTMLElement) {
  body.appendChild(h('h1', {}, t.packages));
  body.appendChild(
    h(
      'div',
      { class: 'grid' },
      ...products.map((p) =>
        h(
          'button',
          {
            type: 'button',
            class: 'card',
            'data-focusable': true,
            tabindex: -1,
            'data-product': p.productId,
            onclick: () => openDetail(p),
          },
          h('div', { class: 'card-title' }, nameOf(p)),
          h('div', { class: 'price' }, money(p.amountMinor, p.currency)),
          h(
            'div',
            { class: 'muted' },
            p.renews ? `${t.renewsShort} · ${t.days(p.durationDays)}` : t.days(p.durationDays),
          ),
        ),
      ),
    ),
  );
}

/** A package: its price and days, what buying it extends or renews, and the way to buy it. */
function renderDetail(body: HTMLElement, s: Extract<Screen, { name: 'detail' }>) {
  body.appendChild(
    h(
      'div',
      { class: 'panel' },
      h('h1', {}, nameOf(s.product)),
      h('div', { class: 'price big' }, money(s.product.amountMinor, s.product.currency)),
      h('p', {}, t.days(s.product.durationDays)),
      aboutOf(s.product) ? h('p', { class: 'lead about', 'data-testid': 'about' }, aboutOf(s.product)) : null,
      s.activeUntil
        ? h(
            'p',
            { class: 'lead', 'data-testid': 'extends' },
            t.extendsTo(
              date(s.activeUntil),
              date(new Date(Date.parse(s.activeUntil) + s.product.durationDays * 86_400_000).toISOString()),
            ),
          )
        : null,
      s.product.renews
        ? h(
            'p',
            { class: 'lead', 'data-testid': 'renews' },
            t.renews(s.product.durationDays, money(s.product.amountMinor, s.product.currency)),
          )
        : null,
      h(
        'div',
        { class: 'row' },
        button(t.buy, () => go({ name: 'phone', product: s.product, digits: '', key: newKey() }), { id: 'buy' }),
        button(t.back, () => go({ name: 'catalogue' })),
      ),
    ),
  );
}

/** Paid: what is now on, until when, and how it was paid. */
function renderSuccess(body: HTMLElement, s: Extract<Screen, { name: 'success' }>) {
  body.appendChild(
    centredPanel(
      [
        h('div', { class: 'badge ok' }, '✓'),
        h('h1', {}, t.success),
        h(
          'p',
          { class: 'lead' },
          s.entitlement ? t.activeUntil(nameOf(s.product), date(s.entitlement.validUntil)) : nameOf(s.product),
        ),
        h(
          'p',
          { class: 'muted', 'data-testid': 'paid' },
          t.paid(
            money(s.order.amountMinor, s.order.currency),
            s.order.paidWith ? (t.methods[s.order.paidWith] ?? '') : '',
          ),
        ),
      ],
      button(t.done, () => go({ name: 'catalogue' }), { id: 'done' }),
    ),
  );
}

/** Not paid: why, in words, and the way to try again. */
function renderFailure(body: HTMLElement, s: Extract<Screen, { name: 'failure' }>) {
  body.appendChild(
    centredPanel(
      [
        h('div', { class: 'badge bad' }, '!'),
        h('h1', {}, t.failed),
        h('p', { class: 'lead', 'data-reason': s.reason }, t.reasons[s.reason] || t.reasons.other!),
      ],
      button(t.retry, () => go({ name: 'phone', product: s.product, digits: '', key: newKey() }), { id: 'retry' }),
      button(t.toCatalogue, () => go({ name: 'catalogue' })),
    ),
  );
}

/** The viewer's services: what is on now, and the renewals of it with a way to cancel each. */
function renderServices(body: HTMLElement, s: Extract<Screen, { name: 'services' }>) {
  body.appendChild(h('h1', {}, t.myServices));
  // Two lists, each under its heading: what is on now, and the renewals of it (one purchase shows in both).
  if (!s.error && s.subscriptions.length) body.appendChild(h('h2', { class: 'subhead' }, t.activeServices));
  body.appendChild(
    s.error
      ? h('p', { class: 'lead error', role: 'alert', 'data-testid': 'services-error' }, t.servicesError)
      : s.list.length === 0
        ? h('p', { class: 'lead' }, t.noServices)
        : h(
            'ul',
            { class: 'list' },
            ...s.list.map((e) => {
              const p = products.filter((x) => x.productId === e.productId)[0];
              return h(
                'li',
                { 'data-refunded': e.refunded ? 'yes' : 'no' },
                h('span', {}, p ? nameOf(p) : e.service),
                h(
                  'span',
                  { class: 'muted', 'data-paid-with': e.paidWith || '' },
                  e.refunded
                    ? t.refunded
                    : t.until(date(e.validUntil)) + (e.paidWith ? ` · ${t.methodNames[e.paidWith] ?? ''}` : ''),
                ),
              );
            }),
          ),
  );
  if (s.subscriptions.length) {
    body.appendChild(h('h2', { class: 'subhead' }, t.renewalsHeading));
    body.appendChild(
      h(
        'ul',
        { class: 'list', 'data-testid': 'subscriptions' },
        ...s.subscriptions.map((sub) =>
          h(
            'li',
            { 'data-subscription': sub.subscriptionId, 'data-status': sub.status },
            h('span', {}, titleOf(sub.productId, sub.title)),
            h(
              'span',
              { class: 'muted' },
              sub.status === 'active' && sub.nextChargeAt
                ? t.nextRenewal(date(sub.nextChargeAt), money(sub.amountMinor, sub.currency))
                : t.renewalCancelled(date(sub.currentPeriodEnd)),
            ),
            sub.status === 'active'
              ? button(t.cancelRenewal, () => go({ name: 'confirm-cancel', subscription: sub, key: newKey() }), {
                  id: `cancel-${sub.subscriptionId}`,
                })
              : null,
          ),
        ),
      ),
    );
  }
  body.appendChild(
    h(
      'div',
      { class: 'row' },
      button(t.back, () => go({ name: 'catalogue' }), { id: 'back' }),
    ),
  );
}

/** The question before the viewer leaves an order that is still waiting for its payment. */
function renderConfirmLeave(body: HTMLElement, s: Extract<Screen, { name: 'confirm-leave' }>) {
  body.appendChild(
    centredPanel(
      [h('h1', {}, t.leaveTitle), h('p', { class: 'lead' }, t.leaveText)],
      button(t.stay, () => go({ name: 'waiting', product: s.product, order: s.order }), { id: 'stay' }),
      button(t.leave, () => void cancel({ name: 'waiting', product: s.product, order: s.order }), { id: 'leave' }),
    ),
  );
}

/** The question before a renewal is cancelled (keeping it is the default). */
function renderConfirmCancel(body: HTMLElement, s: Extract<Screen, { name: 'confirm-cancel' }>) {
  const sub = s.subscription;
  body.appendChild(
    centredPanel(
      [
        h('h1', {}, t.cancelRenewal),
        h('p', { class: 'lead' }, t.confirmCancel(titleOf(sub.productId, sub.title), date(sub.currentPeriodEnd))),
      ],
      button(t.confirmCancelYes, () => void confirmCancel(s), { id: 'confirm-cancel' }),
      button(t.back, () => void showServices(), { id: 'keep' }),
    ),
  );
}

/** A centred panel: what it says (a badge, a heading, its text), then its buttons in a row. */
function centredPanel(content: HTMLElement[], ...buttons: HTMLElement[]): HTMLElement {
  return h('div', { class: 'panel center' }, ...content, h('div', { class: 'row' }, ...buttons));
}

function renderPhone(body: HTMLElement, s: Extract<Screen, { name: 'phone' }>) {
  const valid = PHONE.test(s.digits);
  const early = s.digits.length >= 2 && !/^1[3-9]/.test(s.digits);
  const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'del', '0', 'ok'];
  body.appendChild(
    h(
      'div',
      { class: 'phone-layout' },
      h(
        'div',
        { class: 'panel' },
        h('h1', {}, t.enterPhone),
        h(
          'div',
          { class: `phone-display ${s.digits ? '' : 'empty'}`, 'data-testid': 'phone-display' },
          s.digits ? groupPhone(s.digits) : '___ ____ ____',
        ),
        h(
          'p',
          { class: `muted ${early || s.error ? 'error' : ''}`, role: 'status', 'data-testid': 'phone-status' },
          busy ? t.sending : s.error || (early ? t.phoneBad : t.phoneHint),
        ),
        h('p', { class: 'muted' }, `${nameOf(s.product)} · ${money(s.product.amountMinor, s.product.currency)}`),
      ),
      h(
        'div',
        { class: `keypad ${busy ? 'busy' : ''}`, 'data-trap': true, 'aria-busy': busy ? 'true' : undefined },
        ...keys.map((k) =>
          h(
            'button',
            {
              type: 'button',
              class: `key ${k === 'ok' ? 'key-ok' : ''}`,
              'data-focusable': true,
              tabindex: -1,
              'data-key': k,
              'aria-disabled': k === 'ok' && (!valid || busy) ? 'true' : undefined,
              onclick: () => pressKey(k),
            },
            k === 'del' ? `⌫ ${t.delete}` : k === 'ok' ? t.ok : k,
          ),
        ),
      ),
    ),
  );
}

function pressKey(k: string) {
  const s = screen;
  if (s.name !== 'phone') return;
  if (k === 'del') return (go({ ...s, digits: s.digits.slice(0, -1), error: undefined }), refocus('[data-key="del"]'));
  if (k === 'ok') return void submitPhone(s);
  if (s.digits.length >= 11) return;
  const next = s.digits + k;
  screen = { ...s, digits: next, error: undefined };
  render(`[data-key="${PHONE.test(next) ? 'ok' : k}"]`);
}

function refocus(selector: string) {
  focus(stage.querySelector(selector) as HTMLElement);
}

async function submitPhone(s: Extract<Screen, { name: 'phone' }>) {
  if (busy) return;
  if (!PHONE.test(s.digits)) {
    screen = { ...s, error: t.phoneBad };
    render('[data-key="ok"]');
    return;
  }
  busy = true;
  screen = { ...s, error: undefined };
  render('[data-key="ok"]');
  let order = s.order && (s.order.status === 'created' || s.order.status === 'awaiting_payment') ? s.order : undefined;
  try {
    // One correlation id per checkout (from its key), in every request of it and so in every log line it causes.
    api!.correlationId = `tv_${s.key}`;
    // The same keys on a retry: the back-end answers what it did the first time instead of acting again.
    if (!order) order = await api!.createOrder(s.product.productId, `${s.key}.order`);
    order = await api!.submitPayer(order.orderId, s.digits, `${s.key}.payer.${order.orderId}.${s.digits}`);
    busy = false;
    go({ name: 'waiting', product: s.product, order });
  } catch (err) {
    busy = false;
    const code = err instanceof ApiError ? err.code : 'other';
    if (screen.name !== 'phone') return;
    if (code === 'PHONE_INVALID') {
      screen = { ...s, order, error: t.phoneBad };
      render('[data-key="ok"]');
    } else if (
      code === 'network' ||
      code === 'IDEMPOTENCY_KEY_IN_USE' ||
      (err instanceof ApiError && err.status >= 500)
    ) {
      // Nothing is known to have happened: stay, say so, and let OK try again with the same keys.
      screen = { ...s, order, error: t.reasons.network };
      render('[data-key="ok"]');
    } else if ((code === 'ORDER_PAID' || code === 'ORDER_FINAL') && order && (await follow(s.product, order.orderId))) {
      // The first phone paid while this number was typed: that is a success, not a failure.
    } else if (screen.name === 'phone') {
      go({ name: 'failure', product: s.product, reason: code });
    }
  }
}

function remaining(expiresAt: string): string {
  // Counted by the back-end's clock: the TV's own may be off by hours (or the back-end runs a test clock).
  const ms = Math.max(0, Date.parse(expiresAt) - api!.serverNow());
  const m = Math.floor(ms / 60000);
  const sec = Math.floor((ms % 60000) / 1000);
  return `${m}:${sec < 10 ? '0' : ''}${sec}`;
}

function renderWaiting(body: HTMLElement, s: Extract<Screen, { name: 'waiting' }>) {
  const o = s.order;
  const phone = o.payerPhoneMasked || '';
  const what =
    o.status === 'paid'
      ? o.failureCode === 'FULFILMENT_FAILED'
        ? t.refunding
        : t.paidWait
      : o.channel === 'sms_confirm'
        ? t.smsCode(phone, money(o.amountMinor, o.currency))
        : o.channel === 'wap_link'
          ? t.smsLink(phone)
          : t.sending;
  const qr = h('div', { class: 'qr', 'data-testid': 'qr' });
  const left = h('p', { class: 'muted', 'data-testid': 'time-left' }, t.timeLeft(remaining(o.expiresAt)));
  body.appendChild(
    h(
      'div',
      { class: 'waiting-layout' },
      h(
        'div',
        { class: 'panel' },
        h('h1', {}, t.checkPhone),
        h('p', { class: 'lead', 'data-testid': 'instruction', 'data-channel': o.channel || '' }, what),
        h('p', { class: 'price' }, `${nameOf(s.product)} · ${money(o.amountMinor, o.currency)}`),
        o.triesLeft !== null && o.triesLeft !== undefined && o.status === 'awaiting_payment'
          ? h('p', { class: 'muted', 'data-testid': 'tries-left' }, t.triesLeft(o.triesLeft))
          : null,
        left,
        h('p', { class: 'error', role: 'status', 'data-testid': 'connection', hidden: true }, t.reconnecting),
        h(
          'div',
          { class: 'row' },
          button(t.changeNumber, () => void changeNumber(s), { id: 'change' }),
          button(t.cancel, () => void cancel(s), { id: 'cancel' }),
        ),
      ),
      h(
        'div',
        { class: `panel qr-panel ${railQrs.tiles.length ? 'with-rails' : ''}`, 'data-testid': 'qr-panel' },
        h('div', { class: 'qr-tile' }, qr, h('p', { class: 'muted' }, t.orScan)),
        ...railQrs.tiles.map(railTile),
      ),
    ),
  );
  if (railQrs.orderId !== o.orderId && o.status !== 'paid') void loadRails(o.orderId);
  if (o.payUrl)
    api!.qrSvg(o.orderId).then((svg) => {
      qr.innerHTML = svg;
    });
  if (ticker !== undefined) clearInterval(ticker);
  ticker = window.setInterval(() => {
    left.textContent = t.timeLeft(remaining(o.expiresAt));
  }, 1000);
  if (!stopWatching) {
    stopWatching = api!.watch(
      o.orderId,
      (next) => void onOrder(s.product, next),
      (ok) => {
        const el = stage.querySelector('[data-testid="connection"]') as HTMLElement | null;
        if (el) el.hidden = ok;
      },
    );
  }
}

/**
 * "Change number" (issue 32): the keypad opens at once and the back-end ends the pending attempt, so the
 * first phone's code is refused and its hold released. If the order was paid first (409), the TV follows
 * it to success; if the call is lost, the order is still watched behind the keypad.
 */
async function changeNumber(s: Extract<Screen, { name: 'waiting' }>) {
  go({ name: 'phone', product: s.product, order: s.order, digits: '', key: newKey() });
  try {
    await api!.dropPayer(s.order.orderId);
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) await follow(s.product, s.order.orderId);
  }
}

/** Reads the order and shows it if it was paid meanwhile; whether it was (a 409 that is good news). */
async function follow(product: Product, orderId: string): Promise<boolean> {
  const now = await api!.order(orderId).catch(() => null);
  if (!now || (now.status !== 'paid' && now.status !== 'fulfilled')) return false;
  if (screen.name === 'phone') go({ name: 'waiting', product, order: now });
  await onOrder(product, now);
  return true;
}

/** The rail QR codes of the order on "check your phone" (issue 28): one per rail that is on. */
interface RailTile {
  rail: string;
  label: string;
  qrText: string;
  expiresAt: string;
  svg: string;
}
let railQrs: { orderId: string | null; tiles: RailTile[]; timer: number | undefined } = {
  orderId: null,
  tiles: [],
  timer: undefined,
};

function railTile(tile: RailTile): HTMLElement {
  const box = h('div', { class: 'qr', 'data-testid': `qr-${tile.rail}` });
  box.innerHTML = tile.svg;
  return h('div', { class: 'qr-tile', 'data-rail': tile.rail }, box, h('p', { class: 'muted' }, tile.label));
}

/** Ends the rail codes of the order left: no refresh goes on behind another screen. */
function stopRails() {
  if (railQrs.timer !== undefined) clearTimeout(railQrs.timer);
  railQrs = { orderId: null, tiles: [], timer: undefined };
}

/**
 * Fetches a QR code per rail that is on, when "check your phone" opens, and again before the codes
 * expire. A rail that is down or refuses (409) is simply left out: the phone's code is always there.
 */
async function loadRails(orderId: string) {
  if (railQrs.timer !== undefined) clearTimeout(railQrs.timer);
  railQrs = { orderId, tiles: railQrs.orderId === orderId ? railQrs.tiles : [], timer: undefined };
  const rails = await api!.rails().catch(() => []);
  const tiles: RailTile[] = [];
  for (const r of rails) {
    try {
      const scan = await api!.scan(orderId, r.rail);
      const svg = await QRCode.toString(scan.qrText, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' });
      tiles.push({ rail: r.rail, label: r.title[lang] || r.rail, qrText: scan.qrText, expiresAt: scan.expiresAt, svg });
    } catch {
      // This rail cannot be offered now; the others and the phone's code still can.
    }
  }
  if (railQrs.orderId !== orderId) return;
  railQrs.tiles = tiles;
  const soonest = Math.min(...tiles.map((x) => Date.parse(x.expiresAt)));
  if (Number.isFinite(soonest)) {
    // Refreshed a little before the first code expires (and at most every 15 s), so a viewer never scans a dead one.
    const wait = Math.max(15_000, soonest - api!.serverNow() - 30_000);
    railQrs.timer = window.setTimeout(() => void loadRails(orderId), wait);
  }
  drawRails(orderId);
}

/** Puts the rail codes on the screen in place, without moving the focus. */
function drawRails(orderId: string) {
  if ((screen.name !== 'waiting' && screen.name !== 'confirm-leave') || screen.order.orderId !== orderId) return;
  const panel = stage.querySelector('[data-testid="qr-panel"]');
  if (!panel) return;
  for (const old of Array.from(panel.querySelectorAll('[data-rail]'))) old.remove();
  panel.classList.toggle('with-rails', railQrs.tiles.length > 0);
  for (const tile of railQrs.tiles) panel.appendChild(railTile(tile));
}

async function onOrder(product: Product, o: Order) {
  if (screen.name === 'phone' && screen.order && screen.order.orderId === o.orderId) {
    // Behind the keypad only a payment matters; the rest is said when a number is submitted.
    if (o.status !== 'paid' && o.status !== 'fulfilled') return;
    go({ name: 'waiting', product, order: o });
  }
  if ((screen.name !== 'waiting' && screen.name !== 'confirm-leave') || screen.order.orderId !== o.orderId) return;
  if (o.status === 'fulfilled') {
    const list = await api!.entitlements().catch(() => [] as Entitlement[]);
    go({ name: 'success', product, order: o, entitlement: list.filter((e) => e.orderId === o.orderId)[0] });
  } else if (o.status === 'failed' || o.status === 'expired' || o.status === 'cancelled' || o.status === 'refunded') {
    go({
      name: 'failure',
      product,
      reason: o.status === 'failed' || (o.status === 'refunded' && o.failureCode) ? o.failureCode || 'other' : o.status,
    });
  } else if (screen.name === 'confirm-leave') {
    screen = { ...screen, order: o };
  } else if (JSON.stringify(o) !== JSON.stringify(screen.order)) {
    const focused = stage.querySelector('.focused');
    screen = { name: 'waiting', product, order: o };
    render(focused && focused.id ? `#${focused.id}` : undefined);
  }
}

/** Cancels the payment; if it was paid meanwhile (409), the TV follows the order instead of saying "cancelled". */
async function cancel(s: Extract<Screen, { name: 'waiting' }>) {
  try {
    await api!.cancel(s.order.orderId);
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) {
      const now = await api!.order(s.order.orderId).catch(() => null);
      if (now && now.status !== 'cancelled') return onOrder(s.product, now);
    }
  }
  go({ name: 'failure', product: s.product, reason: 'cancelled' });
}

/**
 * Back on the empty keypad of "change number": the first number's attempt has ended, so there is nothing
 * to wait for; the order is cancelled and the package shown again, unless it was paid meanwhile (409).
 */
async function leaveKeypad(product: Product, order: Order) {
  go({ name: 'detail', product });
  try {
    await api!.cancel(order.orderId);
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) {
      const now = await api!.order(order.orderId).catch(() => null);
      if (now && (now.status === 'paid' || now.status === 'fulfilled') && screen.name === 'detail') {
        go({ name: 'waiting', product, order: now });
        await onOrder(product, now);
      }
    }
  }
}

/** The package's screen; if its service is already on, it then says that buying extends it, and to when. */
function openDetail(p: Product) {
  go({ name: 'detail', product: p });
  api!.entitlements().then(
    (list) => {
      const on = list.filter((e) => e.service === p.service && Date.parse(e.validUntil) > api!.serverNow())[0];
      if (!on || screen.name !== 'detail' || screen.product.productId !== p.productId) return;
      const focused = stage.querySelector('.focused');
      screen = { ...screen, activeUntil: on.validUntil };
      render(focused && focused.id ? `#${focused.id}` : undefined);
    },
    () => undefined,
  );
}

async function showServices() {
  // A network error is said as such, never shown as "nothing active".
  try {
    const [list, subscriptions] = await Promise.all([api!.entitlements(), api!.subscriptions()]);
    go({
      name: 'services',
      list,
      subscriptions: subscriptions.filter((x) => x.status === 'active' || x.status === 'cancelled'),
    });
  } catch {
    go({ name: 'services', list: [], subscriptions: [], error: true });
  }
}

/** Cancels the renewal (with this confirmation's idempotency key), then shows "my services" again. */
async function confirmCancel(s: Extract<Screen, { name: 'confirm-cancel' }>) {
  await api!.cancelSubscription(s.subscription.subscriptionId, s.key).catch(() => undefined);
  await showServices();
}

/** Back: deletes a digit on the keypad, else goes one step back (cancelling a payment in progress). */
function back() {
  const s = screen;
  switch (s.name) {
    case 'phone':
      if (s.digits) pressKey('del');
      else if (s.order) void leaveKeypad(s.product, s.order);
      else go({ name: 'detail', product: s.product });
      break;
    case 'detail':
    case 'services':
    case 'success':
    case 'failure':
      go({ name: 'catalogue' });
      break;
    case 'confirm-cancel':
      void showServices();
      break;
    case 'waiting':
      go({ name: 'confirm-leave', product: s.product, order: s.order });
      break;
    case 'confirm-leave':
      go({ name: 'waiting', product: s.product, order: s.order });
      break;
  }
}

document.addEventListener('keydown', (e) => {
  const key = keyOf(e);
  if (!key) return;
  e.preventDefault();
  const current = (stage.querySelector('.focused') as HTMLElement | null) || null;
  if (key.kind === 'move') {
    if (!current) return ensureFocus();
    focus(nextFocus(current, key.dir, stage) || current);
  } else if (key.kind === 'ok') {
    if (current && current.getAttribute('aria-disabled') !== 'true') current.click();
    else if (current && current.getAttribute('data-key') === 'ok') pressKey('ok');
  } else if (key.kind === 'back') {
    back();
  } else if (key.kind === 'digit' && screen.name === 'phone') {
    pressKey(key.digit);
  }
});

async function start() {
  document.documentElement.lang = lang;
  fitStage();
  window.addEventListener('resize', fitStage);
  const token = provision();
  if (!token) return go({ name: 'unprovisioned' });
  api = new TvApi(token);
  try {
    products = await api.products();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return go({ name: 'unprovisioned' });
    products = [];
  }
  go({ name: 'catalogue' });
}

void start();
