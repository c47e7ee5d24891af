import pg from 'pg';
import { randomBytes } from 'node:crypto';

/** The PostgreSQL these machines run (trust auth); override with TVPAY_TEST_PG_URL. */
const ADMIN_URL = process.env.TVPAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let available: Promise<boolean> | undefined;

/** Whether PostgreSQL answers; checked once per test process. */
export function pgAvailable(): Promise<boolean> {
  available ??= (async () => {
    const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return available;
}

/**
 * How a PostgreSQL test should run here: `run`, or a skip reason said loudly.
 * With TVPAY_REQUIRE_PG=1 (as in CI) a missing PostgreSQL fails instead.
 */
export async function pgSkip(): Promise<string | false> {
  if (await pgAvailable()) return false;
  const message = `PostgreSQL is not reachable at ${ADMIN_URL.replace(/\/\/[^@]*@/, '//')}: SKIPPING the PostgreSQL tests`;
  if (process.env.TVPAY_REQUIRE_PG === '1') throw new Error(`${message} is not allowed (TVPAY_REQUIRE_PG=1)`);
  console.warn(`\n!!! ${message} !!!\n`);
  return message;
}

/** A new, empty database for one test; `drop` removes it. */
export async function freshPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `tvpay_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** A fresh database for each service: the variables that put both stores on PostgreSQL, and one drop for both. */
export async function freshServiceDatabases(): Promise<{
  env: { TVPAY_BACKEND_DATABASE_URL: string; TVPAY_PAYSERVER_DATABASE_URL: string };
  drop(): Promise<void>;
}> {
  const backend = await freshPgDatabase();
  const payserver = await freshPgDatabase();
  return {
    env: { TVPAY_BACKEND_DATABASE_URL: backend.url, TVPAY_PAYSERVER_DATABASE_URL: payserver.url },
    drop: async () => {
      await backend.drop();
      await payserver.drop();
    },
  };
}
