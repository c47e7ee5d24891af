/** What a remote-control key means to the TV app. */
export type Key =
  | { kind: 'move'; dir: 'up' | 'down' | 'left' | 'right' }
  | { kind: 'ok' }
  | { kind: 'back' }
  | { kind: 'digit'; digit: string }
  | null;

/** Arrow keys, OK/Enter, Back (Escape, Backspace, webOS 461, Tizen 10009) and digit keys. */
export function keyOf(e: KeyboardEvent): Key {
  const code = e.keyCode || e.which;
  switch (e.key) {
    case 'ArrowUp':
    case 'Up':
      return { kind: 'move', dir: 'up' };
    case 'ArrowDown':
    case 'Down':
      return { kind: 'move', dir: 'down' };
    case 'ArrowLeft':
    case 'Left':
      return { kind: 'move', dir: 'left' };
    case 'ArrowRight':
    case 'Right':
      return { kind: 'move', dir: 'right' };
    case 'Enter':
    case 'OK':
    case 'Accept':
      return { kind: 'ok' };
    case 'Escape':
    case 'Esc':
    case 'Backspace':
    case 'GoBack':
    case 'BrowserBack':
      return { kind: 'back' };
  }
  if (code === 38) return { kind: 'move', dir: 'up' };
  if (code === 40) return { kind: 'move', dir: 'down' };
  if (code === 37) return { kind: 'move', dir: 'left' };
  if (code === 39) return { kind: 'move', dir: 'right' };
  if (code === 13) return { kind: 'ok' };
  if (code === 461 || code === 10009 || code === 27 || code === 8) return { kind: 'back' };
  if (e.key && /^[0-9]$/.test(e.key)) return { kind: 'digit', digit: e.key };
  if (code >= 48 && code <= 57) return { kind: 'digit', digit: String(code - 48) };
  if (code >= 96 && code <= 105) return { kind: 'digit', digit: String(code - 96) };
  return null;
}
