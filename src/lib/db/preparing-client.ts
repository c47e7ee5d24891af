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

/** COMMIT and ROLLBACK as Kysely sends them, and BEGIN: the texts a held BEGIN answers (answerHeld). */
const TRANSACTION_VERB = /^\s*(begin|commit|rollback)\s*;?\s*$/i;

/** What BegunQuery uses of pg's Query and its connection: not in pg's types, stable across its 8.x releases. */
interface QueryInternals {
  name?: string;
  prepare(connection: WireOut): void;
  hasBeenParsed(connection: WireOut): boolean;
  handleCommandComplete(msg: unknown, connection: WireOut): void;
  handleError(err: Error, connection: WireOut): void;
}
interface WireOut {
  parse(q: { text: string; name: string }): void;
  bind(c: { portal: string; statement: string; values: unknown[] }): void;
  execute(c: { portal: string }): void;
  parsedStatements: Record<string, string>;
}
type QueryClass = new (
  config: object,
  values: undefined,
  callback: (err: Error | null, result: unknown) => void,
) => QueryInternals & pg.Submittable;

/**
 * A transaction's first statement with its BEGIN ahead of it in the same exchange: BEGIN's Parse, Bind and Execute
 * on the unnamed statement, then the statement's own messages and one Sync, so both run before the one
 * ReadyForQuery. BEGIN's CommandComplete comes first and is not a result. The client takes BEGIN's ParseComplete as
 * the statement's own (it marks the statement parsed): when the statement was not parsed before and fails, that
 * mark is taken back, so the text is parsed again next time.
 */
class BegunQuery extends (pg.Query as unknown as QueryClass) {
  private begun = false;
  private parsedBefore = true;

  override prepare(connection: WireOut): void {
    this.parsedBefore = Boolean(this.hasBeenParsed(connection));
    connection.parse({ text: 'BEGIN', name: '' });
    connection.bind({ portal: '', statement: '', values: [] });
    connection.execute({ portal: '' });
    super.prepare(connection);
  }

  override handleCommandComplete(msg: unknown, connection: WireOut): void {
    if (this.begun) return super.handleCommandComplete(msg, connection);
    this.begun = true;
  }

  override handleError(err: Error, connection: WireOut): void {
    if (this.name && !this.parsedBefore) delete connection.parsedStatements[this.name];
    super.handleError(err, connection);
  }
}

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
 * A transaction's BEGIN is held until its first statement and sent with it in one exchange (BegunQuery): one round
 * trip fewer per unit of work, the lever issue 30 measured (each round trip costs both processes a wake-up and a
 * network send, more than BEGIN's own work). A unit of work that ran nothing sends neither BEGIN nor COMMIT. A
 * first statement without parameters (a bare text, which may hold several statements) gets its BEGIN on its own,
 * as before.
 *
 * A pooler in front of PostgreSQL must pass prepared statements through (PgBouncer 1.21 or later with
 * `max_prepared_statements`), or `TVPAY_DB_PREPARED_STATEMENTS=off` turns this off (the held BEGIN with it).
 */
export class PreparingClient extends pg.Client {
  private readonly names = new Map<string, string>();
  /** Counts the times this connection forgot its statements: the server keeps the old names until it closes. */
  private generation = 0;
  /** The server's transaction state after the last exchange: I (idle), T (in a transaction), E (failed one). */
  private transactionState = 'I';
  /** A BEGIN asked for and not sent yet: it goes out with the transaction's first statement. */
  private beginHeld = false;

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
    if (!kept) {
      const verb = typeof text === 'string' && args.length <= 2 ? TRANSACTION_VERB.exec(text)?.[1] : undefined;
      const answered = verb && this.answerHeld(verb.toUpperCase());
      if (answered) return answered;
      if (this.beginHeld) await this.sendHeldBegin(query);
      return query(...args);
    }
    const begin = this.beginHeld;
    this.beginHeld = false;
    const wasIdle = this.transactionState === 'I' && !begin;
    const name = this.nameOf(text);
    const config = name ? { name, text, values } : { text, values };
    try {
      return await (begin ? this.runBegun(query, config) : query(config));
    } catch (err) {
      if (!isStalePlan(err)) throw err;
      this.forget();
      if (!wasIdle) throw err;
      return query({ name: this.nameOf(text), text, values });
    }
  }

  /**
   * BEGIN outside a transaction is held (answered at once, sent with the next statement); COMMIT or ROLLBACK while
   * it is still held ends a transaction that never reached the server: answered here too. Anything else is sent.
   */
  private answerHeld(verb: string): pg.QueryResult | undefined {
    if (verb === 'BEGIN') {
      if (this.beginHeld || this.transactionState !== 'I') return undefined;
      this.beginHeld = true;
    } else if (this.beginHeld) {
      this.beginHeld = false;
    } else return undefined;
    return { command: verb, rowCount: null, oid: 0, rows: [], fields: [] };
  }

  private async sendHeldBegin(query: Query): Promise<void> {
    this.beginHeld = false;
    await query('BEGIN');
  }

  private runBegun(query: Query, config: { name?: string; text: string; values: unknown[] }): Promise<unknown> {
    return new Promise((resolve, reject) => {
      void query(new BegunQuery(config, undefined, (err, result) => (err ? reject(err) : resolve(result))));
    });
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
