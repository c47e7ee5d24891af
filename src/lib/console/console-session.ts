import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import { secretEquals, sha256 } from '../ids.ts';

/** How long a console sign-in lasts, whatever is done meanwhile. */
export const SESSION_SECONDS = 8 * 3600;

/** The name of the hidden field that carries a session's anti-forgery token in every console form. */
export const FORM_TOKEN_FIELD = 'formToken';

/** The table of console sessions, one in each service's database. */
export interface ConsoleSessionTables {
  console_sessions: {
    /** SHA-256 of the session id: the id itself is only in the operator's cookie. */
    id_hash: string;
    created_at: string;
    expires_at: string;
  };
}

/**
 * A console's sessions, kept on the server: the cookie holds a random id and the table only its hash,
 * so signing out ends a session for good (the old cookie finds no row), a session ends at its expiry
 * whatever its cookie says, and a copy of the database opens no console. Each service has its own
 * table, so one console's cookie never opens the other.
 */
export class ConsoleSessions {
  private readonly db: Kysely<ConsoleSessionTables>;

  constructor(
    db: Kysely<any>,
    private readonly random: () => string,
  ) {
    this.db = db as Kysely<ConsoleSessionTables>;
  }

  /** Starts a session and returns its id (for the cookie only); sessions already expired are dropped. */
  async begin(now: Date): Promise<string> {
    const id = this.random();
    await this.db.deleteFrom('console_sessions').where('expires_at', '<=', now.toISOString()).execute();
    await this.db
      .insertInto('console_sessions')
      .values({
        id_hash: sha256(id),
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + SESSION_SECONDS * 1000).toISOString(),
      })
      .execute();
    return id;
  }

  /** Whether a cookie's id is a session that has neither ended nor expired. */
  async valid(id: string | undefined, now: Date): Promise<boolean> {
    if (!id || id.length > 200) return false;
    const row = await this.db
      .selectFrom('console_sessions')
      .select('expires_at')
      .where('id_hash', '=', sha256(id))
      .executeTakeFirst();
    return row !== undefined && row.expires_at > now.toISOString();
  }

  /** Ends a session: its cookie no longer opens the console. */
  async end(id: string): Promise<void> {
    await this.db.deleteFrom('console_sessions').where('id_hash', '=', sha256(id)).execute();
  }
}

/**
 * A session's anti-forgery token: a MAC of the session id, so another page, which can make the browser
 * send the cookie but never read it, cannot know the token; nothing more is stored.
 */
export function formToken(sessionId: string): string {
  return createHmac('sha256', sessionId).update('tvpay console form').digest('base64url');
}

/** Whether a form carried its session's anti-forgery token (compared in constant time). */
export function formTokenMatches(sessionId: string, given: unknown): boolean {
  return typeof given === 'string' && given.length > 0 && secretEquals(given, formToken(sessionId));
}
