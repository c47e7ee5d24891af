import pg from 'pg';
import { renameSync, writeFileSync } from 'node:fs';

/**
 * Loaded into a tvpay process by the bench (`--import`) for the PostgreSQL figures: counts, at the wire,
 * what the process asks of PostgreSQL through `pg`, by service. A round trip is one exchange the process
 * waits for: it ends with the server's ReadyForQuery (node-postgres sends one query at a time per
 * connection, with no pipelining). A statement is one the server ran: a CommandComplete, or an
 * ErrorResponse for one it refused, so a round trip that carries several statements (a multi-statement
 * text, a batch) counts them all. Every 200 ms it writes `{ seq, part, statements, roundTrips }` to
 * `TVPAY_BENCH_PG_COUNT_FILE.<pid>`, so the bench can take the difference over a load run. Never part of
 * `npm start`.
 */
const file = process.env.TVPAY_BENCH_PG_COUNT_FILE;
if (!file) throw new Error('pg-statements: TVPAY_BENCH_PG_COUNT_FILE is not set');
/** The part this process runs (`src/main.ts backend`), or `all`. */
const part = process.argv.find((a) => ['backend', 'payserver', 'carrier', 'all'].includes(a)) ?? 'all';

let statements = 0;
let roundTrips = 0;
const connection = (
  pg as unknown as { Connection: { prototype: { emit: (name: string, ...a: unknown[]) => boolean } } }
).Connection.prototype;
const emit = connection.emit;
connection.emit = function (this: unknown, name: string, ...args: unknown[]) {
  if (name === 'commandComplete' || name === 'errorMessage') statements++;
  else if (name === 'readyForQuery') roundTrips++;
  return emit.call(this, name, ...args);
};

let seq = 0;
const out = `${file}.${process.pid}`;
setInterval(() => {
  writeFileSync(`${out}.tmp`, JSON.stringify({ seq: ++seq, part, statements, roundTrips }));
  renameSync(`${out}.tmp`, out);
}, 200).unref();
