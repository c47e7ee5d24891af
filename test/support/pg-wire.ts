import pg from 'pg';

/** One statement a connection of this process sent to PostgreSQL, and whether a transaction of it was open. */
export interface SentStatement {
  text: string;
  inTransaction: boolean;
  /** Which connection sent it (numbered as they first send): a unit of work's statements share one. */
  connection: number;
}

interface Wire {
  query: (text: string) => void;
  parse: (query: { text: string; name?: string }) => void;
  bind: (config: { statement?: string }) => void;
}

/**
 * Tells `told` of every statement this process sends to PostgreSQL through `pg`, with the connection it went on:
 * at its Query (simple protocol), or at its Bind (extended). A Bind names its statement only: each connection's
 * texts by name, as its Parse gave them (a prepared statement is parsed once, then only bound; '' is the unnamed).
 * Returns what puts the wire back.
 */
export function tapPgWire(told: (connection: object, text: string) => void): () => void {
  const connection = (pg as unknown as { Connection: { prototype: Wire } }).Connection.prototype;
  const { query, parse, bind } = connection;
  const texts = new WeakMap<Wire, Map<string, string>>();
  connection.query = function (this: Wire, text) {
    told(this, text);
    return query.call(this, text);
  };
  connection.parse = function (this: Wire, q) {
    const named = texts.get(this) ?? new Map<string, string>();
    texts.set(this, named.set(q.name ?? '', q.text));
    return parse.call(this, q);
  };
  connection.bind = function (this: Wire, config) {
    told(this, texts.get(this)?.get(config.statement ?? '') ?? '(a statement bound before it was recorded)');
    return bind.call(this, config);
  };
  return () => void Object.assign(connection, { query, parse, bind });
}

/**
 * Tells `told` of every message PostgreSQL sends any `pg` connection of this process, by its event name
 * (`commandComplete`, `readyForQuery`, `errorMessage`, …): a round trip ends at its `readyForQuery`. Returns what
 * puts the connection back.
 */
export function tapPgMessages(told: (name: string) => void): () => void {
  const connection = (pg as unknown as { Connection: { prototype: { emit(name: string, ...a: unknown[]): boolean } } })
    .Connection.prototype;
  const emit = connection.emit;
  connection.emit = function (this: unknown, name: string, ...args: unknown[]) {
    told(name);
    return emit.call(this, name, ...args);
  };
  return () => void (connection.emit = emit);
}

/**
 * Records, at the wire, every statement this process sends to PostgreSQL through `pg` while it is on (as the
 * bench's census counts them): its text, and whether its connection had a BEGIN open (a statement of a
 * transaction) or not (one run on its own). For tests that hold a path to the statements it costs. One at a
 * time; `stop` puts the wire back.
 */
export function recordPgWire(): { sent: SentStatement[]; stop(): void } {
  const sent: SentStatement[] = [];
  const open = new WeakSet<object>();
  const numbers = new WeakMap<object, number>();
  let connections = 0;
  const stop = tapPgWire((wire, text) => {
    const verb = text.trim().slice(0, 8).toLowerCase();
    if (!numbers.has(wire)) numbers.set(wire, ++connections);
    sent.push({ text, inTransaction: open.has(wire), connection: numbers.get(wire)! });
    if (verb.startsWith('begin')) open.add(wire);
    else if (verb.startsWith('commit') || verb.startsWith('rollback')) open.delete(wire);
  });
  return { sent, stop };
}
