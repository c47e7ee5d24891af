import { renameSync, writeFileSync } from 'node:fs';
import { tapPgMessages, tapPgWire } from '../../test/support/pg-wire.ts';

/**
 * Loaded into a tvpay process by the bench (`--import`) for the PostgreSQL figures: counts, at the wire,
 * what the process asks of PostgreSQL through `pg`, by service. A round trip is one exchange the process
 * waits for: it ends with the server's ReadyForQuery (node-postgres sends one query at a time per
 * connection, with no pipelining). A statement is one the server ran: a CommandComplete, or an
 * ErrorResponse for one it refused, so a round trip that carries several statements (a multi-statement
 * text, a batch) counts them all. Every 200 ms it writes `{ seq, part, statements, roundTrips }` to
 * `TVPAY_BENCH_PG_COUNT_FILE.<pid>`, so the bench can take the difference over a load run. With
 * `TVPAY_BENCH_SQL_TOP` set it also counts each statement text as it is run (`bySql`, the first 160
 * characters: at its Query, or at its Bind for the extended protocol), for the census of what a checkout asks
 * of PostgreSQL. Never part of `npm start`.
 */
const file = process.env.TVPAY_BENCH_PG_COUNT_FILE;
if (!file) throw new Error('pg-statements: TVPAY_BENCH_PG_COUNT_FILE is not set');
/** The part this process runs (`src/main.ts backend`), or `all`. */
const part = process.argv.find((a) => ['backend', 'payserver', 'carrier', 'all'].includes(a)) ?? 'all';

let statements = 0;
let roundTrips = 0;
const bySql: Record<string, number> = {};
if (process.env.TVPAY_BENCH_SQL_TOP) {
  // A unit of work is also counted as one pseudo-text, `unit of N: first … last`, from its BEGIN to its
  // COMMIT or ROLLBACK: the census shows which transactions carry one statement only (two of their N + 2 are
  // the BEGIN and COMMIT).
  const open = new WeakMap<object, string[]>();
  tapPgWire((wire, text) => {
    const key = text.slice(0, 160);
    bySql[key] = (bySql[key] ?? 0) + 1;
    const verb = text.trim().slice(0, 8).toLowerCase();
    if (verb.startsWith('begin')) return void open.set(wire, []);
    const unit = open.get(wire);
    if (!unit) return;
    if (!verb.startsWith('commit') && !verb.startsWith('rollback')) return void unit.push(text);
    open.delete(wire);
    const unitKey = `unit of ${unit.length}: ${unit[0]?.slice(0, 70)} … ${unit.at(-1)?.slice(0, 50)}`;
    bySql[unitKey] = (bySql[unitKey] ?? 0) + 1;
  });
}
tapPgMessages((name) => {
  if (name === 'commandComplete' || name === 'errorMessage') statements++;
  else if (name === 'readyForQuery') roundTrips++;
});

let seq = 0;
const out = `${file}.${process.pid}`;
setInterval(() => {
  writeFileSync(`${out}.tmp`, JSON.stringify({ seq: ++seq, part, statements, roundTrips, bySql }));
  renameSync(`${out}.tmp`, out);
}, 200).unref();
