import { expect } from 'chai';
import { UnprocessableError } from '../../engine/errors.js';
import { freshDb, ON_POSTGRES, type TestDb } from '../helpers/db.js';
import { pakn } from '../helpers/cli.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * A black-box check of the agency guide (2026-12-08): `POST /v1/keys` refuses an agency code the catalogue does
 * not know (422 naming /agency), but `pakn keys create --agency KHONG-CO-MA-NAY` made a key nobody's work would
 * ever reach. Key creation itself (api/auth.ts ApiKeys.create), which the API, the command line and the demo seed
 * all call, now refuses a code the catalogue never held. A retired code stays the API's refusal only (it wants the
 * agency in force): the command line may make such a key, for the agency to finish its open cases (the 2025 reform
 * scenario does).
 */
describe('Regression: an agency key for a code the catalogue does not know is refused however it is made', function () {
  this.timeout(60_000);
  let t: TestDb;
  before(async () => (t = await freshDb()));
  after(() => t.close());

  it('Given the key store, when a key is made for an unknown code, then it is refused (422) naming /agency and no key is stored; a retired code is kept', async () => {
    // The catalogue is the one processes/ seeds (an empty catalogue checks nothing: there is nothing to check against).
    const { s } = await Hotline.open(t.db);
    const before = (await s.keys.list()).length;
    for (const agency of ['KHONG-CO-MA-NAY', 'SNNTM']) {
      const err = await s.keys.create({ name: 'Cán bộ', roles: ['agency'], agency }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, agency).to.be.instanceOf(UnprocessableError);
      expect((err as UnprocessableError).errors?.[0]?.path).to.equal('/agency');
    }
    expect((await s.keys.list()).length).to.equal(before);
    expect((await s.keys.create({ name: 'Cán bộ', roles: ['agency'], agency: 'SNNMT' })).row.agency).to.equal('SNNMT');
    expect((await s.keys.create({ name: 'Cán bộ cũ', roles: ['agency'], agency: 'STNMT' })).row.agency).to.equal('STNMT');
  });

  // On PostgreSQL only: the catalogue must be seeded in the database the command opens, and an embedded one
  // belongs to one process at a time (the seeding system's and the command's).
  (ON_POSTGRES ? it : it.skip)('Given the command line, when keys create names an unknown code, then it fails naming /agency', async () => {
    const other = await freshDb();
    try {
      await Hotline.open(other.db);
      const env = { DATABASE_URL: other.url! };
      const r = await pakn(['keys', 'create', '--role', 'agency', '--agency', 'SNNTM', '--name', 'Sở cũ'], env);
      expect(r.code, r.stdout + r.stderr).to.not.equal(0);
      expect(r.stderr).to.include('/agency "SNNTM" is not in the agencies catalogue');
      expect((await pakn(['keys', 'list'], env)).stdout).to.not.include('Sở cũ');
    } finally {
      await other.close();
    }
  });
});
