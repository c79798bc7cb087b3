import { expect } from 'chai';
import { pakn } from '../helpers/cli.js';

/**
 * A black-box check of the README (2026-12-08): DATABASE_URL naming a closed port made `pakn` log a driver's
 * ECONNREFUSED stack trace as JSON and exit 1, naming no setting. It now says the database cannot be reached and
 * which settings to check.
 */
describe('Regression: an unreachable database names the setting to check', function () {
  this.timeout(60_000);

  it('Given DATABASE_URL on a closed port, when keys list runs, then exit 1 with one line naming DATABASE_URL and no stack', async () => {
    const r = await pakn(['keys', 'list'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' });
    expect(r.code, r.stdout + r.stderr).to.equal(1);
    expect(r.stderr).to.include('pakn: the database cannot be reached (ECONNREFUSED): check DATABASE_URL');
    expect(r.stderr).to.not.include('    at ');
  });
});
