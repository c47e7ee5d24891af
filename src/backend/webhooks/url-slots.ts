/**
 * At most `limit` deliveries in flight per URL. A delivery that finds its
 * URL's slots taken waits a little for one (a fast receiver frees a slot in
 * milliseconds), and is told no after `waitMs` (a slow receiver then holds
 * up only its own deliveries, which go back to the outbox for later). Slots
 * freed while others wait are handed on in the order they asked.
 */
export class UrlSlots {
  private readonly busy = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => boolean>>();

  constructor(
    private readonly limit: number,
    private readonly waitMs: number,
  ) {}

  take(url: string): Promise<boolean> {
    const busy = this.busy.get(url) ?? 0;
    if (busy < this.limit) {
      this.busy.set(url, busy + 1);
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const queue = this.waiting.get(url) ?? [];
      this.waiting.set(url, queue);
      let settled = false;
      const grant = () => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        resolve(true);
        return true;
      };
      const timer = setTimeout(() => {
        settled = true;
        queue.splice(queue.indexOf(grant), 1);
        if (queue.length === 0) this.waiting.delete(url);
        resolve(false);
      }, this.waitMs);
      queue.push(grant);
    });
  }

  release(url: string): void {
    const queue = this.waiting.get(url);
    while (queue?.length) {
      // The slot passes to the next in line (still counted as busy).
      if (queue.shift()!()) {
        if (queue.length === 0) this.waiting.delete(url);
        return;
      }
    }
    this.waiting.delete(url);
    const left = (this.busy.get(url) ?? 1) - 1;
    if (left > 0) this.busy.set(url, left);
    else this.busy.delete(url);
  }
}
