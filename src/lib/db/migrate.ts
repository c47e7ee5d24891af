import { Migrator, type Kysely, type Migration } from 'kysely';

/**
 * Applies a service's migrations (kept in code, one source for both dialects)
 * and fails loudly if any does not apply. Returns whether the store was new
 * (its first migration ran now), which is when demo data may be seeded.
 */
export async function migrate(
  db: Kysely<any>,
  migrations: Record<string, Migration>,
): Promise<{ storeCreated: boolean }> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`Migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
  const first = Object.keys(migrations).sort()[0];
  return { storeCreated: results?.some((r) => r.migrationName === first && r.status === 'Success') ?? false };
}
