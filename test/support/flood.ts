import type { ServerResponse } from 'node:http';

/**
 * Answers 200 with `total` bytes, streamed from one 64 KiB buffer as fast as the client takes them (never
 * allocated whole), as a receiver that floods its caller would. Returns the count of bytes handed to the
 * socket so far, for a test to compare with what its client may read.
 */
export function flood(res: ServerResponse, total: number): () => number {
  const piece = Buffer.alloc(64 * 1024, 'x');
  let sent = 0;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(total) });
  const more = () => {
    while (sent < total && !res.destroyed) {
      sent += piece.length;
      if (!res.write(piece)) return void res.once('drain', more);
    }
    res.end();
  };
  res.on('close', () => res.removeAllListeners('drain'));
  more();
  return () => sent;
}
