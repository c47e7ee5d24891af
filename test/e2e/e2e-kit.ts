import assert from 'node:assert/strict';
import { clients, type Processes } from '../support/processes.ts';
import { walk } from '../support/walk.ts';

/** The walks' kit (test/support/walk.ts) over real HTTP to the processes. */
export const e2eKit = (p: Processes) => walk(clients(p));

/** Reads an order's event stream until it closes or `until` says stop; returns the statuses seen. */
export async function watchEvents(
  url: string,
  token: string,
): Promise<{ statuses: string[]; done: Promise<string[]> }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const statuses: string[] = [];
  const done = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let i: number;
      while ((i = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const data = /^data: (.*)$/m.exec(event);
        if (data) statuses.push(JSON.parse(data[1]!).status);
      }
    }
    return statuses;
  })();
  return { statuses, done };
}
