/** What a remote-control key means to the TV app. */
export type Key =
  | { kind: 'move'; dir: 'up' | 'down' | 'left' | 'right' }
  | { kind: 'ok' }
  | { kind: 'back' }
  | { kind: 'digit'; digit: string }
  | null;

type Direction = 'up' | 'down' | 'left' | 'right';

/** Keys by name (`KeyboardEvent.key`), as browsers and TV platforms spell them. */
const NAMED = new Map<string, Key>([
  ...(['ArrowUp', 'Up'] as const).map((k) => [k, move('up')] as const),
  ...(['ArrowDown', 'Down'] as const).map((k) => [k, move('down')] as const),
  ...(['ArrowLeft', 'Left'] as const).map((k) => [k, move('left')] as const),
  ...(['ArrowRight', 'Right'] as const).map((k) => [k, move('right')] as const),
  ...['Enter', 'OK', 'Accept'].map((k) => [k, { kind: 'ok' }] as const),
  ...['Escape', 'Esc', 'Backspace', 'GoBack', 'BrowserBack'].map((k) => [k, { kind: 'back' }] as const),
]);

/** Keys by code, for platforms that give no name: arrows, Enter, and Back (webOS 461, Tizen 10009, Esc, Backspace). */
const CODED = new Map<number, Key>([
  [38, move('up')],
  [40, move('down')],
  [37, move('left')],
  [39, move('right')],
  [13, { kind: 'ok' }],
  ...[461, 10009, 27, 8].map((c) => [c, { kind: 'back' }] as const),
]);

function move(dir: Direction): Key {
  return { kind: 'move', dir };
}

/** Arrow keys, OK/Enter, Back (Escape, Backspace, webOS 461, Tizen 10009) and digit keys. */
export function keyOf(e: KeyboardEvent): Key {
  const code = e.keyCode || e.which;
  const known = NAMED.get(e.key) ?? CODED.get(code);
  if (known) return { ...known };
  if (e.key && /^[0-9]$/.test(e.key)) return { kind: 'digit', digit: e.key };
  if (code >= 48 && code <= 57) return { kind: 'digit', digit: String(code - 48) };
  if (code >= 96 && code <= 105) return { kind: 'digit', digit: String(code - 96) };
  return null;
}
