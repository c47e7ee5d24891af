import type { Kysely, KyselyPlugin } from 'kysely';

/**
 * `db` as a store that counts the statements it runs (the figure issue 30 is about): the same store, its
 * adapter and pool, with a plugin that sees the result of every statement run through it, prepared
 * (preparedQuery) or built on the spot.
 */
export function statementCounter<DB>(db: Kysely<DB>): { db: Kysely<DB>; statements(): number } {
  let n = 0;
  const plugin: KyselyPlugin = {
    transformQuery: (args) => args.node,
    transformResult: async (args) => {
      n++;
      return args.result;
    },
  };
  return { db: db.withPlugin(plugin), statements: () => n };
}
