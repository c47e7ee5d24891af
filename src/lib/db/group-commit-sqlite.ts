import SqliteDatabase from 'better-sqlite3';
import {
  CompiledQuery,
  SelectQueryNode,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';
import { WalSync, type SyncFile } from './wal-sync.ts';

/**
 * The writer (and every connection that configureSqlite sets up) maps the store's file, up to
 * 256 MB, instead of copying pages into its small cache: a store of a million orders is read from
 * the OS's page cache directly. The group commit's reader does not (READER_CACHE_KIB).
 */
export const MMAP_BYTES = 256 * 2 ** 20;

/**
 * The reader copies pages into a cache of its own (64 MB) instead of mapping the file. In WAL
 * mode a connection that finds the store changed since its last read drops its cache and, when
 * it maps the file, unmaps and maps it again; under a checkout load that is nearly every read,
 * and a read by primary key took 100–110 µs mapped against 25–50 µs copied (the checkout's reads
 * on the reader: 1.4 ms a checkout, then 0.75 ms). A store at rest keeps its cache: the million
 * orders' console reads stayed within 12–34 ms (BENCHMARKS.md).
 */
const READER_CACHE_KIB = 64 * 1024;

/**
 * Group commit for SQLite: the transactions of many requests share one
 * durable COMMIT (one WAL fsync), like TigerBeetle's batches, instead of
 * paying an fsync each. Measured before this: every second a checkout spent
 * half its time in fsyncs of single-statement commits (BENCHMARKS.md).
 *
 * How it stays correct:
 * - One writer connection holds an outer transaction (BEGIN IMMEDIATE) that
 *   stays open while the units of work queued in this turn of the event loop
 *   run, one at a time, each inside its own SAVEPOINT; a unit that fails rolls
 *   back to its savepoint and leaves the others alone.
 * - The outer transaction commits as soon as the units queued before the
 *   commit have run (in the next turn, or a few turns later when the writer
 *   lets the event loop read requests in between, see WriterLock), or once it
 *   holds 512 units. Then the WAL is synced on libuv's thread pool (WalSync),
 *   and only once it is on disk do the units' promises resolve. Meanwhile the
 *   next units run into the next batch, which commits after that sync: one
 *   sync at a time, and the event loop never waits for the disk. Nothing is
 *   acknowledged before it is durable; if the COMMIT fails every unit in the
 *   batch fails with it, and if a sync fails, that batch, the one after it and
 *   every write and read from then on fail (what SQLite holds may no longer
 *   be what is on disk: the service must restart and recover from the file).
 * - Reads outside a transaction run on a second, read-only connection, which
 *   in WAL mode sees committed data only, and a read waits while a sync is
 *   under way: no reader (a TV's status read, the outbox worker looking for
 *   due messages) ever sees a batch that might still be lost. Reads inside a
 *   transaction see the batch, as they must. An in-memory database has no
 *   second connection and nothing to sync, so there a read waits for the
 *   open batch to commit first. Another process reading the file (the
 *   command line) can see a batch up to one sync before it is durable.
 */
export interface GroupCommitOptions {
  /** Sets each new connection up (pragmas). */
  configure?: (db: SqliteDatabase.Database) => void;
  /** Told of every durable commit and how many units of work it carried (for tests and metrics). */
  onCommit?: (units: number) => void;
  /** Syncs the WAL's data to disk (default `fs.fdatasync`); tests hold or fail it. */
  syncFile?: SyncFile;
}

export class GroupCommitSqliteDialect implements Dialect {
  constructor(
    private readonly file: string,
    private readonly options: GroupCommitOptions = {},
  ) {}
  createDriver(): Driver {
    return new GroupCommitDriver(this.file, this.options);
  }
  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

/**
 * How long the writer may run units back to back in one turn of the event
 * loop before it lets the loop read what arrived. On renewal day (10,000 due)
 * a TV's p99 was 35 ms with no limit, 25 ms at 5 ms and 19 ms at 2 ms, with
 * the same renewals a second; at 100,000 due, 64 ms without and 41 ms with
 * it, and the renewals done in 432 s instead of 456. A checkout's API calls
 * pay a little for it at half load (p99 13–15 ms before, 15–21 after;
 * BENCHMARKS.md).
 */
const WRITER_SLICE_MS = 2;

/**
 * A FIFO lock: units of work take the writer connection one at a time, in
 * arrival order. Handing it to the next unit is a microtask, so a long queue
 * of units would all run in one turn of the event loop, and no request that
 * arrived meanwhile would be read until it drained (on renewal day, a TV's
 * call waited behind thousands of renewal steps). So once the writer has been
 * busy for WRITER_SLICE_MS in one turn, the next hand-over waits for setImmediate:
 * the poll phase reads what arrived first. A unit is never cut short.
 */
class WriterLock {
  private held = false;
  private readonly waiting: Array<() => void> = [];
  /** When the writer was first taken in this turn of the event loop. */
  private turnStart: number | undefined;
  private handOverQueued = false;

  constructor(private readonly sliceMs = WRITER_SLICE_MS) {}

  async acquire(): Promise<void> {
    if (!this.held && this.waiting.length === 0 && this.spent() < this.sliceMs) {
      this.held = true;
      return;
    }
    await new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.handOver();
    });
  }

  release(): void {
    this.held = false;
    this.handOver();
  }

  private handOver(): void {
    if (this.held || this.waiting.length === 0) return;
    if (this.spent() < this.sliceMs) {
      this.held = true;
      this.waiting.shift()!();
      return;
    }
    if (this.handOverQueued) return;
    this.handOverQueued = true;
    setImmediate(() => {
      this.handOverQueued = false;
      this.handOver();
    });
  }

  /** Milliseconds the writer has been in use in this turn (a turn ends at the next check phase). */
  private spent(): number {
    const now = performance.now();
    if (this.turnStart === undefined) {
      this.turnStart = now;
      setImmediate(() => (this.turnStart = undefined));
    }
    return now - this.turnStart;
  }
}

/**
 * better-sqlite3 statements prepared once per SQL text: preparing (parsing and
 * planning) was a tenth of a request's CPU. A statement runs synchronously to
 * the end before it is used again, so reuse is safe.
 */
class StatementCache {
  private readonly cache = new Map<string, SqliteDatabase.Statement>();
  constructor(
    readonly db: SqliteDatabase.Database,
    private readonly max = 1000,
  ) {}
  run(query: CompiledQuery): QueryResult<any> {
    let stmt = this.cache.get(query.sql);
    if (!stmt) {
      stmt = this.db.prepare(query.sql);
      if (this.cache.size >= this.max) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(query.sql, stmt);
    }
    const params = query.parameters as unknown[];
    if (stmt.reader) return { rows: stmt.all(params) };
    const { changes, lastInsertRowid } = stmt.run(params);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }
}

interface Batch {
  units: number;
  durable: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

/** The outer transaction of the writer connection and the units waiting for its COMMIT and its sync. */
class GroupCommitter {
  private batch: Batch | undefined;
  private flushPending = false;
  /** The WAL's sync after the last COMMIT, while it runs; settles (never rejects) once `broken` says how it went. */
  syncing: Promise<void> | undefined;
  /** Set for good once a sync failed: nothing after it is acknowledged. */
  private broken: Error | undefined;

  constructor(
    private readonly writer: StatementCache,
    private readonly lock: WriterLock,
    private readonly onCommit: (units: number) => void = () => {},
    /** Syncs the WAL after each COMMIT; absent in memory. */
    private readonly wal?: WalSync,
    private readonly maxUnits = 512,
  ) {}

  /** A batch is open or a sync is under way. */
  get pending(): boolean {
    return this.batch !== undefined || this.syncing !== undefined;
  }

  /** Throws once a sync has failed (see the class's comment). */
  throwIfBroken(): void {
    if (this.broken) throw this.broken;
  }

  /** With the lock held: opens the outer transaction if none is open, and counts one more unit in it. */
  join(): Batch {
    this.throwIfBroken();
    if (!this.batch) {
      this.writer.db.exec('begin immediate');
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const durable = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      durable.catch(() => {}); // a batch nobody waits on (all its units rolled back) must not be an unhandled rejection
      this.batch = { units: 0, durable, resolve, reject };
    }
    this.batch.units++;
    return this.batch;
  }

  /** After a unit released the lock: commit once the units queued behind it have run. */
  scheduleCommit(): void {
    if (this.batch && this.batch.units >= this.maxUnits && !this.syncing) {
      void this.commit();
      return;
    }
    if (this.flushPending) return;
    this.flushPending = true;
    setImmediate(() => void this.commit());
  }

  /**
   * Takes its turn at the lock like any unit, so the units queued before it
   * are in the batch. While a sync runs it leaves the batch open: the sync's
   * end commits it.
   */
  async commit(): Promise<void> {
    await this.lock.acquire();
    try {
      if (this.syncing) {
        this.flushPending = true; // the sync's end commits
        return;
      }
      this.flushPending = false;
      this.commitLocked();
    } finally {
      this.lock.release();
    }
  }

  /** Waits for the sync under way, if any (and the one after it, if a commit came first). */
  async settled(): Promise<void> {
    while (this.syncing) await this.syncing;
  }

  /**
   * With the lock held and no sync under way: the COMMIT of the open batch, then its sync, then its units learn the
   * outcome.
   */
  commitLocked(): void {
    const batch = this.batch;
    if (!batch) return;
    this.batch = undefined;
    if (this.broken) {
      if (this.writer.db.inTransaction) this.writer.db.exec('rollback');
      batch.reject(this.broken);
      return;
    }
    try {
      this.writer.db.exec('commit');
    } catch (err) {
      if (this.writer.db.inTransaction) this.writer.db.exec('rollback');
      batch.reject(err);
      return;
    }
    if (!this.wal) {
      this.onCommit(batch.units);
      batch.resolve();
      return;
    }
    // Set in the same turn as the COMMIT: a read that finds no sync under way finds only durable data.
    this.syncing = this.wal.sync().then(
      () => {
        this.syncing = undefined;
        batch.resolve();
        this.afterSync();
        this.onCommit(batch.units); // last: a listener that throws cannot keep the units waiting
      },
      (err: Error) => {
        this.broken = new Error(`the store could not make its commits durable (${err.message}): restart the service`, {
          cause: err,
        });
        this.syncing = undefined;
        batch.reject(this.broken);
        this.afterSync();
      },
    );
  }

  /**
   * The batch that gathered during the sync commits in a later turn, after the reads that waited for the sync have run.
   */
  private afterSync(): void {
    if (!this.flushPending) return;
    setImmediate(() => void this.commit());
  }

  /** SQLite ended the outer transaction itself (a disk error, a full disk): every unit in it is lost. */
  abortIfEnded(err: unknown): void {
    if (this.batch && !this.writer.db.inTransaction) {
      this.batch.reject(err);
      this.batch = undefined;
    }
  }
}

const SAVEPOINT = 'tvpay_unit';

class GroupCommitDriver implements Driver {
  private writer!: StatementCache;
  private reader: StatementCache | undefined;
  private readonly lock = new WriterLock();
  private committer!: GroupCommitter;
  private wal: WalSync | undefined;

  constructor(
    private readonly file: string,
    private readonly options: GroupCommitOptions,
  ) {}

  async init(): Promise<void> {
    const writer = new SqliteDatabase(this.file);
    this.options.configure?.(writer);
    this.writer = new StatementCache(writer);
    let wal: WalSync | undefined;
    if (this.file !== ':memory:') {
      // COMMIT writes the WAL; WalSync makes it durable off the event loop before anything is acknowledged.
      // (A file system where SQLite could not turn WAL on keeps whatever `configure` chose: SQLite syncs in COMMIT.)
      if (writer.pragma('journal_mode', { simple: true }) === 'wal') {
        writer.pragma('synchronous = NORMAL');
        wal = new WalSync(`${this.file}-wal`, this.options.syncFile);
      }
      const reader = new SqliteDatabase(this.file, { readonly: true });
      reader.pragma('busy_timeout = 5000');
      reader.pragma('mmap_size = 0');
      reader.pragma(`cache_size = -${READER_CACHE_KIB}`);
      this.reader = new StatementCache(reader);
    }
    this.wal = wal;
    this.committer = new GroupCommitter(this.writer, this.lock, this.options.onCommit, wal);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new UnitConnection(this);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as UnitConnection).begin();
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as UnitConnection).commit();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as UnitConnection).rollback();
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    (connection as UnitConnection).onWriter(`savepoint "${name}"`);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    (connection as UnitConnection).onWriter(`rollback to "${name}"`);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    (connection as UnitConnection).onWriter(`release "${name}"`);
  }

  async releaseConnection(): Promise<void> {}

  /** Commits what is open, then closes both connections. */
  async destroy(): Promise<void> {
    do {
      await this.committer.settled();
      await this.committer.commit();
    } while (this.committer.pending);
    this.reader?.db.close();
    this.writer.db.close();
    this.wal?.close();
  }

  /**
   * A statement outside any transaction. It settles, whether it succeeded or
   * failed, only once its batch has committed, so that whatever it saw (the
   * row a unique key collided with, say) is visible to the reads after it.
   */
  async execute(query: CompiledQuery): Promise<QueryResult<any>> {
    if (SelectQueryNode.is(query.query)) return this.read(query);
    await this.lock.acquire();
    let batch: Batch;
    let result: QueryResult<any> | undefined;
    let failure: { err: unknown } | undefined;
    try {
      batch = this.committer.join();
      try {
        result = this.onWriter(query);
      } catch (err) {
        failure = { err };
      }
    } finally {
      this.lock.release();
    }
    this.committer.scheduleCommit();
    if (failure) {
      await batch.durable.catch(() => {});
      throw failure.err;
    }
    await batch.durable;
    return result!;
  }

  private async read(query: CompiledQuery): Promise<QueryResult<any>> {
    if (this.reader) {
      if (this.committer.syncing) await this.committer.settled();
      this.committer.throwIfBroken();
      return this.reader.run(query);
    }
    await this.lock.acquire();
    try {
      this.committer.commitLocked();
      return this.writer.run(query);
    } finally {
      this.lock.release();
    }
  }

  /**
   * Runs on the writer, always inside the open batch (never as a commit of its
   * own); an error that ended the outer transaction fails the whole batch.
   */
  onWriter(query: CompiledQuery): QueryResult<any> {
    if (!this.writer.db.inTransaction) throw new Error('the batch this statement belonged to has already failed');
    try {
      return this.writer.run(query);
    } catch (err) {
      this.committer.abortIfEnded(err);
      throw err;
    }
  }

  /** Begins a unit of work: the writer's lock, the batch, a savepoint. */
  async beginUnit(): Promise<Batch> {
    await this.lock.acquire();
    try {
      const batch = this.committer.join();
      this.onWriter(CompiledQuery.raw(`savepoint ${SAVEPOINT}`));
      return batch;
    } catch (err) {
      this.lock.release();
      throw err;
    }
  }

  /**
   * Ends a unit of work; a kept unit resolves once its batch is durable, and a
   * rolled-back one once its batch has committed (so that what it saw, such as
   * the row it collided with, is visible to the reads after it).
   */
  async endUnit(batch: Batch, keep: boolean): Promise<void> {
    try {
      if (keep) this.onWriter(CompiledQuery.raw(`release ${SAVEPOINT}`));
      else if (this.writer.db.inTransaction) {
        this.writer.db.exec(`rollback to ${SAVEPOINT}`);
        this.writer.db.exec(`release ${SAVEPOINT}`);
      }
    } finally {
      this.lock.release();
      this.committer.scheduleCommit();
    }
    if (keep) await batch.durable;
    else await batch.durable.catch(() => {});
  }
}

/** What Kysely holds as a connection: a unit of work inside a transaction, single statements otherwise. */
class UnitConnection implements DatabaseConnection {
  private batch: Batch | undefined;

  constructor(private readonly driver: GroupCommitDriver) {}

  async begin(): Promise<void> {
    this.batch = await this.driver.beginUnit();
  }

  async commit(): Promise<void> {
    const batch = this.batch;
    if (!batch) throw new Error('commit without a transaction');
    this.batch = undefined;
    await this.driver.endUnit(batch, true);
  }

  async rollback(): Promise<void> {
    const batch = this.batch;
    if (!batch) return; // the commit itself failed: the unit has already ended
    this.batch = undefined;
    await this.driver.endUnit(batch, false);
  }

  onWriter(sqlText: string): void {
    this.driver.onWriter(CompiledQuery.raw(sqlText));
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.batch ? this.driver.onWriter(query) : this.driver.execute(query);
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not supported by this store');
  }
}
