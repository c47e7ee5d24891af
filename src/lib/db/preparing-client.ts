import { createHash } from 'node:crypto';
import pg from 'pg';

/** Distinct statement texts one connection keeps prepared; past this, new texts run unnamed as before. */
const PREPARED_PER_CONNECTION = 500;

/**
 * PostgreSQL's answer when a kept plan's result columns changed under it: another instance's migration added a
 * column to a table a kept `select *` reads (a rolling upgrade). Parsing the text again is the whole cure.
 */
export function isStalePlan(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === '0A000' && /cached plan must not change result type/.test(e.message ?? '');
}

type Query = (...args: unknown[]) => Promise<unknown>;

/**
 * A PostgreSQL connection that has each statement text parsed and planned once and kept (a named prepared
 * statement of the extended protocol) instead of parsed and planned on every run. Measured with the bench's
 * checkout on PostgreSQL: the server's CPU per checkout went from 20.7 ms to 16.6 ms with the same 95
 * statements (BENCHMARKS.md).
 *
 * Only statements with parameters are kept (what Kysely sends for every query it builds): BEGIN, COMMIT and
 * other bare texts run as before. A connection keeps at most PREPARED_PER_CONNECTION texts, so texts that
 * vary (an `IN` list of many lengths) cannot grow the server's memory without end. A kept plan gone stale
 * (isStalePlan) makes the connection forget what it kept and prepare each text again under a new name (the
 * server holds the old ones until the connection closes); outside a transaction the statement is sent again
 * at once, and inside one the unit of work runs the transaction again (in-transaction.ts).
 *
 * A pooler in front of PostgreSQL must pass prepared statements through (PgBouncer 1.21 or later with
 * `max_prepared_statements`), or `TVPAY_DB_PREPARED_STATEMENTS=off` turns this off.
 */
export class PreparingClient extends pg.Client {
  private readonly names = new Map<string, string>();
  /** Counts the times this connection forgot its statements: the server keeps the old names until it closes. */
  private generation = 0;
  /** The server's transaction state after the last exchange: I (idle), T (in a transaction), E (failed one). */
  private transactionState = 'I';

  constructor(config?: string | pg.ClientConfig) {
    super(config);
    const query = this.query.bind(this) as Query;
    this.query = ((...args: unknown[]) => this.prepared(query, args)) as typeof this.query;
    const connection = (this as unknown as { connection: pg.Connection }).connection;
    connection.on('readyForQuery', (msg: { status?: string }) => (this.transactionState = msg.status ?? 'I'));
  }

  private async prepared(query: Query, args: unknown[]): Promise<unknown> {
    const [text, values] = args;
    const kept = args.length === 2 && typeof text === 'string' && Array.isArray(values) && values.length > 0;
    const name = kept ? this.nameOf(text) : undefined;
    if (!kept || !name) return query(...args);
    const wasIdle = this.transactionState === 'I';
    try {
      return await query({ name, text, values });
    } catch (err) {
      if (!isStalePlan(err)) throw err;
      this.forget();
      if (!wasIdle) throw err;
      return query({ name: this.nameOf(text), text, values });
    }
  }

  private nameOf(text: string): string | undefined {
    let name = this.names.get(text);
    if (name || this.names.size >= PREPARED_PER_CONNECTION) return name;
    name = `tv${this.generation}_${createHash('sha1').update(text).digest('base64url')}`;
    this.names.set(text, name);
    return name;
  }

  /** Drops what this connection kept: the next run of each text parses it again under a new name. */
  private forget(): void {
    const connection = (this as unknown as { connection: { parsedStatements: Record<string, string> } }).connection;
    for (const name of this.names.values()) delete connection.parsedStatements[name];
    this.names.clear();
    this.generation++;
  }
}
