/**
 * Spatial navigation for a remote control: from the focused element, moves to
 * the nearest focusable element in the pressed direction, the way the eye
 * expects (like BBC's lrud-spatial): candidates must lie ahead in that
 * direction; the nearest along the axis wins, with sideways offset weighing
 * double. Left and right stay in the row (an element whose height overlaps the
 * focused one's), so the last card does not jump to the header and the header
 * does not drop into the cards. Focus never leaves a container marked `data-trap`.
 */
export type Direction = 'up' | 'down' | 'left' | 'right';

export const FOCUSABLE = '[data-focusable]:not([disabled])';

function center(r: DOMRect) {
  return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
}

/** Whether two boxes share a row: their vertical extents overlap. */
const sameRow = (a: DOMRect, b: DOMRect) => b.top < a.bottom && b.bottom > a.top;

export function scope(from: Element | null, root: ParentNode): ParentNode {
  const trap = from?.closest('[data-trap]');
  return trap ?? root;
}

export function nextFocus(from: HTMLElement, dir: Direction, root: ParentNode): HTMLElement | null {
  const within = scope(from, root);
  const a = from.getBoundingClientRect();
  const ca = center(a);
  let best: HTMLElement | null = null;
  let bestScore = Infinity;
  const all = Array.prototype.slice.call(within.querySelectorAll(FOCUSABLE)) as HTMLElement[];
  for (const el of all) {
    if (el === from) continue;
    const b = el.getBoundingClientRect();
    if (b.width === 0 && b.height === 0) continue;
    const cb = center(b);
    let along: number;
    let across: number;
    switch (dir) {
      case 'up':
        along = a.top - b.bottom;
        across = Math.abs(ca.x - cb.x);
        if (cb.y >= ca.y - 1) continue;
        break;
      case 'down':
        along = b.top - a.bottom;
        across = Math.abs(ca.x - cb.x);
        if (cb.y <= ca.y + 1) continue;
        break;
      case 'left':
        along = a.left - b.right;
        across = Math.abs(ca.y - cb.y);
        if (cb.x >= ca.x - 1 || !sameRow(a, b)) continue;
        break;
      default:
        along = b.left - a.right;
        across = Math.abs(ca.y - cb.y);
        if (cb.x <= ca.x + 1 || !sameRow(a, b)) continue;
    }
    const score = Math.max(0, along) + across * 2;
    if (score < bestScore) {
      bestScore = score;
      best = el;
    }
  }
  return best;
}
