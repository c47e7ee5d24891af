import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../lib/clock.ts';
import { migrate } from '../../lib/db/migrate.ts';
import { openDatabase } from '../../lib/db/open-database.ts';
import { cryptoRandom } from '../../lib/ids.ts';
import type { BackendTables } from '../schema.ts';
import { backendMigrations } from '../migrations/index.ts';
import { DevicesService } from './devices.ts';

async function kit() {
  const store = openDatabase<BackendTables>(':memory:');
  await migrate(store.db, backendMigrations);
  const clock = new ManualClock();
  return {
    db: store.db,
    clock,
    devices: new DevicesService(store.db, cryptoRandom, clock),
    close: () => store.close(),
  };
}

describe('device tokens', () => {
  it('admits a provisioned TV by its token and refuses an unknown or missing token with 401', async () => {
    const k = await kit();
    const tv = await k.devices.create('Living room', 'sub_1');
    assert.deepEqual(await k.devices.authenticate(tv.token), {
      deviceId: tv.deviceId,
      name: 'Living room',
      accountId: 'sub_1',
    });
    await assert.rejects(
      k.devices.authenticate('tvd_not-a-token'),
      (err: { code?: string }) => err.code === 'UNAUTHORIZED',
    );
    await assert.rejects(k.devices.authenticate(undefined), (err: { code?: string }) => err.code === 'UNAUTHORIZED');
    await k.close();
  });

  it('remembers a device for 30 s at most: a row removed by hand stops admitting its TV after that', async () => {
    const k = await kit();
    const tv = await k.devices.create('Bedroom', 'sub_2');
    await k.devices.authenticate(tv.token);
    await k.db.deleteFrom('devices').where('id', '=', tv.deviceId).execute();
    assert.equal((await k.devices.authenticate(tv.token)).deviceId, tv.deviceId, 'still remembered');
    k.clock.advance(30_001);
    await assert.rejects(k.devices.authenticate(tv.token), (err: { code?: string }) => err.code === 'UNAUTHORIZED');
    await k.close();
  });
});
