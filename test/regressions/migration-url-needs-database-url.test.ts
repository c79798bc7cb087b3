import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../api/config.js';

/**
 * A black-box check of the README (2026-12-08): PAKN_MIGRATION_DATABASE_URL set and DATABASE_URL unset started the
 * node on the embedded database, which then failed with a stack trace about "pending migrations" in another
 * database; and a bad PAKN_MIGRATION_DATABASE_URL was told "(or unset for the embedded database)", which is what
 * unsetting DATABASE_URL does, not this one. Both are now config errors saying what to set.
 */
describe('Regression: PAKN_MIGRATION_DATABASE_URL needs DATABASE_URL, and its error says what unsetting it does', () => {
  it('Given the migration URL without DATABASE_URL, then the boot stops naming both', () => {
    expect(() => loadConfig({ PAKN_MIGRATION_DATABASE_URL: 'postgres://owner@127.0.0.1/pakn' })).to.throw(ConfigError, /PAKN_MIGRATION_DATABASE_URL is set but DATABASE_URL is not/);
  });

  it('Given a bad migration URL, then the error says unset means migrations run on DATABASE_URL', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://app@127.0.0.1/pakn', PAKN_MIGRATION_DATABASE_URL: 'mysql://x' })).to.throw(ConfigError, /or unset: migrations then run on DATABASE_URL/);
  });

  it('Given both, then the config holds both', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://app@127.0.0.1/pakn', PAKN_MIGRATION_DATABASE_URL: 'postgres://owner@127.0.0.1/pakn' });
    expect(config).to.include({ databaseUrl: 'postgres://app@127.0.0.1/pakn', migrationDatabaseUrl: 'postgres://owner@127.0.0.1/pakn' });
  });
});
