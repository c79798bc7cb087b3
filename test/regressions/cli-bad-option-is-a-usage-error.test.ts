import { expect } from 'chai';
import { join } from 'node:path';
import { pakn } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/system.js';

/**
 * A black-box check of the README (2026-12-08): `pakn deploy f.bpmn --comment` (no value), `pakn deploy --bogus
 * f.bpmn` and `pakn lint --year 2020 x.dmn` printed a JSON log line with a Node stack trace ("pakn failed",
 * ERR_PARSE_ARGS_…) and exited 1. A bad option is a usage error: the message, the usage, exit 2.
 */
describe('Regression: a bad command-line option exits 2 with the usage, not a stack trace', function () {
  this.timeout(60_000);

  it('Given lint with an option it does not take, then exit 2, the option named, the usage printed, no stack', async () => {
    const r = await pakn(['lint', '--year', '2020', join(FIXTURES, 'simple.bpmn')], {});
    expect(r.code, r.stdout + r.stderr).to.equal(2);
    expect(r.stderr).to.include('--year');
    expect(r.stderr).to.include('pakn lint FILE');
    expect(r.stderr).to.not.include('    at ');
    expect(r.stdout + r.stderr).to.not.include('pakn failed');
  });
});
