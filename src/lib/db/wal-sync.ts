import { close, fdatasync, openSync } from 'node:fs';

/** How a file's data reaches the disk: `fs.fdatasync`, or a test's stand-in that holds or fails it. */
export type SyncFile = (fd: number, done: (err: NodeJS.ErrnoException | null) => void) => void;

/**
 * The durable half of a SQLite COMMIT, taken off the event loop. With
 * `synchronous = FULL` SQLite calls fdatasync on the WAL inside COMMIT, and
 * the whole process waits for the disk (a fifth of the event loop under the
 * checkout load, BENCHMARKS.md). The writer runs with `synchronous = NORMAL`
 * instead, which writes the WAL's frames at COMMIT and syncs only around
 * checkpoints, and this syncs the WAL on libuv's thread pool after each
 * COMMIT. fdatasync flushes the file (the inode), not one descriptor, so a
 * descriptor of our own covers SQLite's writes; the WAL keeps its inode while
 * a connection is open (SQLite truncates or rewinds it, never replaces it).
 * A WAL frame is valid only if every frame before it is (cumulative
 * checksums), so a batch that reached the disk implies every batch before it.
 */
export class WalSync {
  private fd: number | undefined;

  constructor(
    private readonly walPath: string,
    private readonly syncFile: SyncFile = fdatasync,
  ) {}

  /** Resolves once everything written to the WAL so far is on disk. */
  sync(): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        // Opened on first use: the -wal file exists once a write transaction has committed.
        this.fd ??= openSync(this.walPath, 'r');
      } catch (err) {
        reject(err as Error);
        return;
      }
      this.syncFile(this.fd, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    if (this.fd !== undefined) close(this.fd, () => {});
    this.fd = undefined;
  }
}
