import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/connect.js';
import { activeKeyByHash, countKeys, insertKey, keyById, listKeys, lockLiveAdminKeys, revokeKey, type KeyRow } from '../db/keys.js';
import type { Actor } from '../engine/actor.js';
import type { Clock } from '../engine/clock.js';
import { ConflictError, InputError, NotFoundError } from '../engine/errors.js';
import { ROLES, type Role } from '../engine/hotline/policy.js';

/**
 * Who is calling. Routes see only this, never how it was proven, so an
 * OIDC/JWT authenticator can sit beside API keys without touching a route.
 */
export interface Principal {
  id: string;
  name: string;
  roles: Role[];
  /** Agency or unit code this principal acts for (agency keys must have one). */
  agency: string | null;
  /** How the caller authenticated: 'api-key', later 'oidc'. */
  via: string;
  /** The catalogue and calendar version read with the credential, when it was (saves the request its own read: Catalogue.ensureCurrent). */
  referenceVersion?: number;
}

export interface Authenticator {
  /** Returns the principal, null when the credential is not of this kind, or throws when it is but is invalid. */
  authenticate(token: string): Promise<Principal | null>;
}

export function actorOf(p: Principal, requestId?: string): Actor {
  return { id: p.id, name: p.name, roles: p.roles, agency: p.agency, requestId };
}

const KEY_PREFIX = 'pakn_';

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Bearer API keys: 32 random bytes, shown once, stored only as a SHA-256 hash. */
export class ApiKeys implements Authenticator {
  constructor(
    private readonly db: Db,
    /** Stamps revocations. */
    private readonly clock: Clock,
    /**
     * Refuses an agency code the catalogue does not know (422 naming /agency): here, so that every way a key is
     * made checks it — the API did, `pakn keys create --agency KHONG-CO-MA-NAY` made a key nobody's work reaches.
     */
    private readonly checkAgency: (code: string) => void = () => {},
  ) {}

  async create(input: { name: string; roles: string[]; agency?: string | null; createdBy?: string }): Promise<{ key: string; row: KeyRow }> {
    const name = input.name?.trim();
    if (!name) throw new InputError('A key needs a name.', [{ path: '/name', message: 'must not be empty' }]);
    const roles = [...new Set(input.roles)];
    if (!roles.length) throw new InputError('A key needs at least one role.', [{ path: '/roles', message: `choose from ${ROLES.join(', ')}` }]);
    const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
    if (unknown.length) throw new InputError(`Unknown role(s): ${unknown.join(', ')}.`, [{ path: '/roles', message: `choose from ${ROLES.join(', ')}` }]);
    if (roles.includes('agency') && !input.agency) {
      throw new InputError('An agency key must name its agency or unit code.', [{ path: '/agency', message: 'required for role agency' }]);
    }
    if (input.agency) this.checkAgency(input.agency);
    const secret = randomBytes(32).toString('base64url');
    const key = `${KEY_PREFIX}${secret}`;
    const row = await insertKey(this.db, { name, roles, agency: input.agency ?? null, keyHash: hashKey(key), prefix: key.slice(0, 12), createdBy: input.createdBy ?? null });
    return { key, row };
  }

  list(): Promise<KeyRow[]> {
    return listKeys(this.db);
  }

  /**
   * Revoke a key, effective at once. Key management must stay reachable: an
   * admin cannot revoke its own key (another admin must), and the last live
   * admin key cannot be revoked at all (409, saying why). The live admin keys
   * are locked first, so two admins revoking each other cannot both succeed.
   */
  async revoke(id: string, by?: Principal): Promise<void> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw new NotFoundError(`Key ${id} does not exist.`);
    await this.db.transaction(async (trx) => {
      const admins = await lockLiveAdminKeys(trx);
      const key = await keyById(trx, id);
      if (!key) throw new NotFoundError(`Key ${id} does not exist.`);
      if (key.revoked_at) return;
      if (by?.id === `key:${id}`) throw new ConflictError('A key cannot revoke itself: ask another admin to revoke it, so key management stays reachable.');
      if (admins.length === 1 && admins[0] === id) throw new ConflictError('This is the last live admin key: create another admin key first, or nobody could manage keys any more.');
      await revokeKey(trx, id, this.clock.now());
    });
  }

  count(): Promise<number> {
    return countKeys(this.db);
  }

  /** Looked up on every request (one indexed read) so a revocation takes effect at once. */
  async authenticate(token: string): Promise<Principal | null> {
    if (!token.startsWith(KEY_PREFIX)) return null;
    const { key: row, referenceVersion } = await activeKeyByHash(this.db, hashKey(token));
    if (!row) return null;
    return { id: `key:${row.id}`, name: row.name, roles: row.roles as Role[], agency: row.agency, via: 'api-key', referenceVersion };
  }
}
