import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { bearerToken } from '../../lib/auth.ts';
import type { Clock } from '../../lib/clock.ts';
import { unauthorized } from '../../lib/errors.ts';
import { sha256, type RandomSource } from '../../lib/ids.ts';
import { preparedQuery } from '../../lib/db/prepared-query.ts';
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
const deviceByTokenHash = preparedQuery((db: BackendDb, tokenHash: string) => db.selectFrom('devices').selectAll().where('token_hash', '=', tokenHash));

/**
 * TVs: an operator provisions each with a device token (shown once, stored
 * only as a hash); `accountId` is the operator's subscriber the TV belongs to.
 */
/**
 * How long a device found by its token is remembered: a TV polls and streams
 * its order, and the lookup was a fifth of a status read's CPU (BENCHMARKS.md).
 * Devices are never changed through tvpay, so only a row removed by hand in
 * the database outlives its removal, by this long at most.
 */
const RECENT_MS = 30_000;
const RECENT_MAX = 100_000;

export class DevicesService {
  /** Devices recently found, by token hash (valid tokens only, so guessing cannot fill it). */
  private readonly recent = new Map<string, { until: number; device: Device }>();

  constructor(
    private readonly db: BackendDb,
    private readonly random: RandomSource,
    private readonly clock: Clock,
  ) {}

  async create(name: string, accountId: string, token = this.random.token('tvd_')): Promise<Device & { token: string }> {
    const deviceId = this.random.id('dev');
    await this.db
      .insertInto('devices')
      .values({ id: deviceId, name, account_id: accountId, token_hash: sha256(token), created_at: this.clock.now().toISOString() })
      .execute();
    return { deviceId, name, accountId, token };
  }

  async authenticate(token: string | undefined): Promise<Device> {
    if (!token) throw unauthorized('Send the device token as "Authorization: Bearer <token>".');
    const hash = sha256(token);
    const now = this.clock.now().getTime();
    const known = this.recent.get(hash);
    if (known && known.until > now) return known.device;
    const [row] = (await deviceByTokenHash(this.db, hash)).rows;
    if (!row) throw unauthorized('The device token is not valid.');
    const device = { deviceId: row.id, name: row.name, accountId: row.account_id };
    if (this.recent.size >= RECENT_MAX) this.recent.delete(this.recent.keys().next().value!);
    this.recent.set(hash, { until: now + RECENT_MS, device });
    return device;
  }

  /**
   * An onRequest hook admitting only a provisioned TV. The event stream (and
   * only that route, matched by its route, not by the URL's text) may carry
   * the token as `?access_token=` (RFC 6750), because a browser's
   * EventSource cannot send headers; query strings are never logged.
   */
  hook() {
    return async (request: FastifyRequest) => {
      const fromQuery = request.method === 'GET' && request.routeOptions.url === EVENT_STREAM_ROUTE ? (request.query as { access_token?: string } | undefined)?.access_token : undefined;
      request.device = await this.authenticate(bearerToken(request) ?? fromQuery);
      request.principal = `device:${request.device.deviceId}`;
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
          { name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }), accountId: Type.String({ minLength: 1, maxLength: 128, pattern: '\\S' }) },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ deviceId: Type.String(), name: Type.String(), accountId: Type.String(), token: Type.String() }) },
      },
    },
    async (request, reply) => reply.code(201).send(await devices.create(request.body.name, request.body.accountId)),
  );
}
