import { sql, type CompiledQuery, type Kysely } from 'kysely';

/**
 * SQLite's plan for what a store really sends: `db` is the store's Kysely
 * with every query caught on its way (as compiled for that store), and
 * `planOfLast()` is EXPLAIN QUERY PLAN of the last one, its parameters
 * written in as literals.
 */
export function capturePlans<DB>(store: Kysely<DB>): {
  db: Kysely<DB>;
  sent: CompiledQuery[];
  planOfLast: () => Promise<string>;
} {
  const sent: CompiledQuery[] = [];
  const db = store.withPlugin({
    transformQuery: (args) => {
      sent.push(store.getExecutor().compileQuery(args.node, args.queryId));
      return args.node;
    },
    transformResult: async (args) => args.result,
  }) as Kysely<DB>;
  const planOfLast = async () => {
    const { sql: text, parameters } = sent.at(-1)!;
    const values = [...parameters];
    const rows = await sql
      .raw(`EXPLAIN QUERY PLAN ${text.replace(/\?/g, () => `'${String(values.shift())}'`)}`)
      .execute(store);
    return (rows.rows as Array<{ detail: string }>).map((r) => r.detail).join('; ');
  };
  return { db, sent, planOfLast };
}
