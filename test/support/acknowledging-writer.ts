/**
 * A child process for the group-commit durability test: writes rows as fast
 * as it can through tvpay's SQLite store, many at once, and prints each row's
 * id only after its write was acknowledged. The test kills it with SIGKILL
 * mid-stream; every printed id must then be in the file.
 */
import { openDatabase } from '../../src/lib/db/open-database.ts';

const file = process.argv[2]!;
const { db } = openDatabase<any>(file);
await db.schema
  .createTable('acks')
  .ifNotExists()
  .addColumn('id', 'integer', (c) => c.primaryKey())
  .execute();
let next = 0;
process.stdout.write('ready\n');
const writer = async () => {
  for (;;) {
    const id = next++;
    if (id % 3 === 0) await db.insertInto('acks').values({ id }).execute();
    else await db.transaction().execute((trx) => trx.insertInto('acks').values({ id }).execute());
    process.stdout.write(`${id}\n`);
  }
};
await Promise.all(Array.from({ length: 16 }, writer));
