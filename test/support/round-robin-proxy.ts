import http from 'node:http';

/**
 * A minimal load balancer for tests: forwards each request to the next
 * upstream in turn (streaming both ways, so event streams pass through), and
 * tries the next one when an upstream is down.
 */
export async function roundRobinProxy(port: number, upstreams: () => string[]): Promise<{ close(): Promise<void> }> {
  let next = 0;
  const server = http.createServer((req, res) => {
    const targets = upstreams();
    const attempt = (left: number) => {
      if (targets.length === 0) {
        res.writeHead(502).end();
        return;
      }
      const base = new URL(targets[next++ % targets.length]!);
      const upstream = http.request(
        {
          host: base.hostname,
          port: base.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: base.host },
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => {
        if (left > 1 && !res.headersSent) attempt(left - 1);
        else if (!res.headersSent) res.writeHead(502).end();
        else res.destroy();
      });
      res.on('close', () => upstream.destroy());
      body.then((b) => upstream.end(b));
    };
    const chunks: Buffer[] = [];
    const body = new Promise<Buffer>((resolve) => {
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks)));
    });
    attempt(targets.length);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
