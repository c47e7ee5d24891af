import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { bearerToken } from '../../lib/auth.ts';
import type { Clock } from '../../lib/clock.ts';
import { notFound, unauthorized } from '../../lib/errors.ts';
import { DeviceSchema, type DeviceListing } from '../../contracts/admin-api.ts';
import { sha256, type RandomSource } from '../../lib/ids.ts';
import { preparedQuery } from '../../lib/db/prepared-query.ts';
import { moveRow } from '../../lib/db/rows.ts';
import type { BackendDb } from '../schema.ts';

export interface Device {
  deviceId: string;
  name: string;
  accountId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    device?: Device;
  }
}

/** The one route that takes the device token in its query string. */
export const EVENT_STREAM_ROUTE = '/v1/orders/:orderId/events';

/** Every TV request authenticates, so this lookup is prepared once. */
const deviceByTokenHash = preparedQuery((db: BackendDb, tokenHash: string) =>
  db.selectFrom('devices').selectAll().where('token_hash', '=', tokenHash).where('revoked_at', 'is', null),
);

/**
 * TVs: an operator provisions each with a device token (shown once, stored
 * only as a hash); `accountId` is the operator's subscriber the TV belongs to.
 */
/**
 * How long a device found by its token is remembered: a TV polls and streams
 * its order, and the lookup was a fifth of a status read's CPU (BENCHMARKS.md).
 * A revocation forgets the device at once on the instance that made it; on
 * other instances (several back-ends on one PostgreSQL) it takes this long.
 */
const RECENT_MS = 5_000;
const RECENT_MAX = 100_000;

export class DevicesService {
  /** Devices recently found, by token hash (valid tokens only, so guessing cannot fill it). */
  private readonly recent = new Map<string, { until: number; device: Device }>();

  constructor(
    private readonly db: BackendDb,
    private readonly random: RandomSource,
    private readonly clock: Clock,
  ) {}

  async create(
    name: string,
    accountId: string,
    token = this.random.token('tvd_'),
  ): Promise<Device & { token: string }> {
    const deviceId = this.random.id('dev');
    await this.db
      .insertInto('devices')
      .values({
        id: deviceId,
        name,
        account_id: accountId,
        token_hash: sha256(token),
        created_at: this.clock.now().toISOString(),
        revoked_at: null,
      })
      .execute();
    return { deviceId, name, accountId, token };
  }

  /** Every device, newest first, revoked ones too (with when). */
  async list(): Promise<DeviceListing[]> {
    const rows = await this.db
      .selectFrom('devices')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map((r) => ({
      deviceId: r.id,
      name: r.name,
      accountId: r.account_id,
      createdAt: r.created_at,
      revokedAt: r.revoked_at,
    }));
  }

  /** Revokes a device's token at once: its next request is 401, and open event streams end with their order. */
  async revoke(deviceId: string): Promise<void> {
    const row = await this.db
      .selectFrom('devices')
      .select(['token_hash', 'revoked_at'])
      .where('id', '=', deviceId)
      .executeTakeFirst();
    if (!row) throw notFound('DEVICE_NOT_FOUND', 'The device');
    this.recent.delete(row.token_hash);
    if (row.revoked_at) return;
    const revoked = { revoked_at: this.clock.now().toISOString() };
    await moveRow(this.db, 'devices', { id: deviceId, revoked_at: null }, revoked);
    this.recent.delete(row.token_hash);
  }

  async authenticate(token: string | undefined): Promise<Device> {
    return this.find(token);
  }

  /**
   * The device behind a token: at once, without a turn of the event loop,
   * when it was found in the last few seconds; else the store's answer.
   */
  private find(token: string | undefined): Device | Promise<Device> {
    if (!token) return Promise.reject(unauthorized('Send the device token as "Authorization: Bearer <token>".'));
    const hash = sha256(token);
    const known = this.recent.get(hash);
    if (known && known.until > this.clock.now().getTime()) return known.device;
    return this.lookUp(hash);
  }

  private async lookUp(hash: string): Promise<Device> {
    const [row] = (await deviceByTokenHash(this.db, hash)).rows;
    if (!row) throw unauthorized('The device token is not valid.');
    const device = { deviceId: row.id, name: row.name, accountId: row.account_id };
    if (this.recent.size >= RECENT_MAX) this.recent.delete(this.recent.keys().next().value!);
    this.recent.set(hash, { until: this.clock.now().getTime() + RECENT_MS, device });
    return device;
  }

  /**
   * An onRequest hook admitting only a provisioned TV. The event stream (and
   * only that route, matched by its route, not by the URL's text) may carry
   * the token as `?access_token=` (RFC 6750), because a browser's
   * EventSource cannot send headers; query strings are never logged. A device
   * found recently is admitted at once (a callback hook, no promise); the
   * rest wait for the store.
   */
  hook(): onRequestHookHandler {
    const admit = (request: FastifyRequest, device: Device) => {
      request.device = device;
      request.principal = `device:${device.deviceId}`;
    };
    return (request, _reply, done) => {
      const fromQuery =
        request.method === 'GET' && request.routeOptions.url === EVENT_STREAM_ROUTE
          ? (request.query as { access_token?: string } | undefined)?.access_token
          : undefined;
      const found = this.find(bearerToken(request) ?? fromQuery);
      if (found instanceof Promise) {
        found.then((device) => {
          admit(request, device);
          done();
        }, done);
        return;
      }
      admit(request, found);
      done();
    };
  }
}

export function adminDeviceRoutes(app: FastifyInstance, devices: DevicesService): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/admin/v1/devices',
    {
      config: { secretFields: ['token'] },
      schema: {
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }),
            accountId: Type.String({ minLength: 1, maxLength: 128, pattern: '\\S' }),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            deviceId: Type.String(),
            name: Type.String(),
            accountId: Type.String(),
            token: Type.String(),
          }),
        },
      },
    },
    async (request, reply) => reply.code(201).send(await devices.create(request.body.name, request.body.accountId)),
  );
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get('/admin/v1/devices', { schema: { response: { 200: Type.Array(DeviceSchema) } } }, async () => devices.list());
  r.delete(
    '/admin/v1/devices/:deviceId',
    { schema: { params: Type.Object({ deviceId: Type.String({ minLength: 1, maxLength: 64 }) }) } },
    async (request, reply) => {
      await devices.revoke(request.params.deviceId);
      return reply.code(204).send();
    },
  );
}
