import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DecisionError, evaluateDecision, parseDmn, validateDmn, type DecisionTable } from '../../engine/dmn.js';
import { UnprocessableError } from '../../engine/errors.js';
import { join } from 'node:path';
import { ROOT } from '../helpers/system.js';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../fixtures/dmn/${name}`, import.meta.url)), 'utf8');

interface TableSpec {
  hitPolicy?: string;
  aggregation?: string;
  inputs: Array<[expression: string, typeRef?: string]>;
  outputs: Array<{ name: string; typeRef?: string; outputValues?: string; defaultOutputEntry?: string }>;
  rules: Array<[inputEntries: string[], outputEntries: string[]]>;
}

const xmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Builds DMN XML so each hit policy is exercised through the parser, as a deployed file would be. */
function tableXml(spec: TableSpec): string {
  const attrs = `hitPolicy="${spec.hitPolicy ?? 'UNIQUE'}"${spec.aggregation ? ` aggregation="${spec.aggregation}"` : ''}`;
  const inputs = spec.inputs.map(([expression, typeRef], i) =>
    `<input id="in${i + 1}" label="Input ${i + 1}"><inputExpression id="in${i + 1}-expr"${typeRef ? ` typeRef="${typeRef}"` : ''}><text>${xmlText(expression)}</text></inputExpression></input>`);
  const outputs = spec.outputs.map((o, i) =>
    `<output id="out${i + 1}" name="${o.name}"${o.typeRef ? ` typeRef="${o.typeRef}"` : ''}>`
    + (o.outputValues ? `<outputValues><text>${xmlText(o.outputValues)}</text></outputValues>` : '')
    + (o.defaultOutputEntry ? `<defaultOutputEntry><text>${xmlText(o.defaultOutputEntry)}</text></defaultOutputEntry>` : '')
    + '</output>');
  const rules = spec.rules.map(([ins, outs], r) =>
    `<rule id="r${r + 1}">`
    + ins.map((e, i) => `<inputEntry id="r${r + 1}-in${i + 1}"><text>${xmlText(e)}</text></inputEntry>`).join('')
    + outs.map((e, i) => `<outputEntry id="r${r + 1}-out${i + 1}"><text>${xmlText(e)}</text></outputEntry>`).join('')
    + '</rule>');
  return `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="test-defs" name="Test" namespace="http://example.org/dmn">
  <decision id="test" name="Test decision"><decisionTable id="test-table" ${attrs}>
    ${[...inputs, ...outputs, ...rules].join('\n    ')}
  </decisionTable></decision>
</definitions>`;
}

async function tableOf(spec: TableSpec): Promise<DecisionTable> {
  return (await parseDmn(tableXml(spec))).decisions[0];
}

function decisionError(fn: () => unknown): DecisionError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(DecisionError);
    return err as DecisionError;
  }
  expect.fail('expected a DecisionError');
}

/** Overdue days → urgency: rows 1 and 3 overlap for 4 and 5 days, row 4 matches everything. */
const overdue = (hitPolicy: string, extra: Partial<TableSpec> = {}): TableSpec => ({
  hitPolicy,
  inputs: [['overdueDays', 'number']],
  outputs: [{ name: 'urgency', typeRef: 'string', outputValues: '"khan","cao","theo-doi","thuong"' }, { name: 'points', typeRef: 'number' }],
  rules: [
    [['[1..5]'], ['"theo-doi"', '1']],
    [['>= 10'], ['"khan"', '5']],
    [['> 3'], ['"cao"', '3']],
    [['-'], ['"thuong"', '0']],
  ],
  ...extra,
});

describe('DMN decision tables (engine/dmn.ts)', () => {
  describe('Given the routing sample (field, unit, channel → level, agency; hit policy FIRST)', () => {
    let table: DecisionTable;
    before(async () => {
      table = (await parseDmn(fixture('routing-sample.dmn'))).decisions[0];
    });

    it('When it is validated, Then there are no problems and the parsed result is returned', async () => {
      const { problems, parsed } = await validateDmn(fixture('routing-sample.dmn'));
      expect(problems).to.deep.equal([]);
      expect(parsed?.id).to.equal('pakn-routing');
    });

    it('When it is parsed, Then decisions, columns and rules come out as plain JSON that survives a round trip', async () => {
      const parsed = await parseDmn(fixture('routing-sample.dmn'));
      expect(parsed).to.deep.equal(JSON.parse(JSON.stringify(parsed)));
      expect(parsed).to.include({ id: 'pakn-routing', name: 'Phân luồng PAKN 1022', namespace: 'http://camunda.org/schema/1.0/dmn' });
      expect(parsed.decisions).to.have.length(1);
      expect(table).to.include({ id: 'routing', name: 'Phân luồng phản ánh, kiến nghị', hitPolicy: 'FIRST', aggregation: null });
      expect(table.inputs.map((i) => [i.label, i.inputExpression, i.typeRef])).to.deep.equal([
        ['Lĩnh vực', 'field', 'string'], ['Mã đơn vị hành chính', 'unit', 'string'], ['Kênh tiếp nhận', 'channel', 'string'],
      ]);
      expect(table.outputs.map((o) => [o.name, o.label, o.typeRef])).to.deep.equal([['level', 'Cấp xử lý', 'string'], ['agency', 'Cơ quan xử lý', 'string']]);
      expect(table.rules.map((r) => r.id)).to.deep.equal(['r-land-env', 'r-build-district', 'r-build', 'r-hotline-other', 'r-fallback']);
      expect(table.rules[1]).to.deep.equal({
        id: 'r-build-district',
        description: 'Xây dựng ở các quận có mã dưới 770: phòng quản lý đô thị cấp huyện',
        inputEntries: ['"xay-dung"', '< "770"', '-'],
        outputEntries: ['"huyen"', '"Phòng Quản lý đô thị"'],
      });
      expect(table.rules[4].inputEntries).to.deep.equal(['-', '', '-']);
    });

    it('When a land complaint arrives, Then the list entry "dat-dai","moi-truong" sends it to the Department of Natural Resources', () => {
      expect(evaluateDecision(table, { field: 'moi-truong', unit: '760', channel: 'hotline' })).to.deep.equal({
        matchedRuleIds: ['r-land-env'], output: { level: 'tinh', agency: 'Sở Tài nguyên và Môi trường' },
      });
    });

    it('When a construction complaint comes from unit 765, Then the string comparison < "770" routes it to the district', () => {
      expect(evaluateDecision(table, { field: 'xay-dung', unit: '765', channel: 'web' })).to.deep.equal({
        matchedRuleIds: ['r-build-district'], output: { level: 'huyen', agency: 'Phòng Quản lý đô thị' },
      });
    });

    it('When a construction complaint comes from unit 780, Then the comparison fails and FIRST takes the next row', () => {
      expect(evaluateDecision(table, { field: 'xay-dung', unit: '780', channel: 'web' }).matchedRuleIds).to.deep.equal(['r-build']);
    });

    it('When another field arrives by Zalo, Then not("email") matches', () => {
      expect(evaluateDecision(table, { field: 'y-te', unit: '780', channel: 'zalo' }).output).to.deep.equal({ level: 'tinh', agency: 'Trung tâm 1022' });
    });

    it('When another field arrives by email, Then only the row of - and empty cells matches', () => {
      expect(evaluateDecision(table, { field: 'y-te', unit: '780', channel: 'email' })).to.deep.equal({
        matchedRuleIds: ['r-fallback'], output: { level: 'xa', agency: 'UBND cấp xã' },
      });
    });

    it('When the table is read back from its stored JSON, Then it evaluates the same', () => {
      const stored = JSON.parse(JSON.stringify(table)) as DecisionTable;
      const context = { field: 'xay-dung', unit: '765', channel: 'web' };
      expect(evaluateDecision(stored, context)).to.deep.equal(evaluateDecision(table, context));
    });

    it('When the unit code is a number although the column is typed string, Then a DecisionError names the column instead of matching by accident', () => {
      const err = decisionError(() => evaluateDecision(table, { field: 'xay-dung', unit: 765, channel: 'web' }));
      expect(err.message).to.match(/Mã đơn vị hành chính.*expects a string.*765/);
      expect(err.decisionId).to.equal('routing');
    });
  });

  describe('Given numeric ranges in input entries', () => {
    let table: DecisionTable;
    before(async () => {
      table = await tableOf({
        inputs: [['overdueDays', 'number']],
        outputs: [{ name: 'band', typeRef: 'string' }],
        rules: [[['[1..5]'], ['"1-5"']], [['(5..10)'], ['"6-9"']], [['>= 10'], ['"10+"']]],
      });
    });

    for (const [days, band] of [[1, '1-5'], [5, '1-5'], [5.5, '6-9'], [9.99, '6-9'], [10, '10+'], [365, '10+']] as const) {
      it(`When overdueDays is ${days}, Then the band is ${band}`, () => {
        expect(evaluateDecision(table, { overdueDays: days }).output).to.deep.equal({ band });
      });
    }

    it('When overdueDays is 0 or missing, Then no rule matches and the output is null', () => {
      expect(evaluateDecision(table, { overdueDays: 0 })).to.deep.equal({ matchedRuleIds: [], output: null });
      expect(evaluateDecision(table, {})).to.deep.equal({ matchedRuleIds: [], output: null });
    });

    it('When overdueDays is text, Then a DecisionError is raised (FEEL alone would let "x" pass >= 10)', () => {
      expect(decisionError(() => evaluateDecision(table, { overdueDays: 'x' })).message).to.match(/expects a number/);
    });
  });

  describe('Given each hit policy on the overdue-days table', () => {
    it('When UNIQUE finds one match, Then it returns that rule\'s outputs', async () => {
      const table = await tableOf(overdue('UNIQUE'));
      table.rules = table.rules.filter((r) => r.id === 'r2');
      expect(evaluateDecision(table, { overdueDays: 12 })).to.deep.equal({ matchedRuleIds: ['r2'], output: { urgency: 'khan', points: 5 } });
    });

    it('When UNIQUE finds several matches, Then a DecisionError names every matching rule', async () => {
      const table = await tableOf(overdue('UNIQUE'));
      const err = decisionError(() => evaluateDecision(table, { overdueDays: 4 }));
      expect(err.ruleIds).to.deep.equal(['r1', 'r3', 'r4']);
      expect(err.message).to.match(/UNIQUE.*row 1 = r1, row 3 = r3, row 4 = r4.*Make these rules exclusive/);
    });

    it('When UNIQUE finds no match, Then the output is null', async () => {
      const table = await tableOf(overdue('UNIQUE', { rules: [[['[1..5]'], ['"theo-doi"', '1']]] }));
      expect(evaluateDecision(table, { overdueDays: 7 })).to.deep.equal({ matchedRuleIds: [], output: null });
    });

    it('When nothing matches and an output has a default, Then the defaults are returned', async () => {
      const table = await tableOf({
        inputs: [['overdueDays', 'number']],
        outputs: [{ name: 'urgency', defaultOutputEntry: '"thuong"' }, { name: 'points' }],
        rules: [[['>= 10'], ['"khan"', '5']]],
      });
      expect(evaluateDecision(table, { overdueDays: 2 })).to.deep.equal({ matchedRuleIds: [], output: { urgency: 'thuong', points: null } });
    });

    it('When FIRST has overlapping matches, Then only the first row in table order counts', async () => {
      const table = await tableOf(overdue('FIRST'));
      expect(evaluateDecision(table, { overdueDays: 4 })).to.deep.equal({ matchedRuleIds: ['r1'], output: { urgency: 'theo-doi', points: 1 } });
      expect(evaluateDecision(table, { overdueDays: 12 })).to.deep.equal({ matchedRuleIds: ['r2'], output: { urgency: 'khan', points: 5 } });
    });

    it('When PRIORITY has overlapping matches, Then the output earliest in the allowed values wins', async () => {
      const table = await tableOf(overdue('PRIORITY'));
      expect(evaluateDecision(table, { overdueDays: 4 })).to.deep.equal({ matchedRuleIds: ['r3'], output: { urgency: 'cao', points: 3 } });
      expect(evaluateDecision(table, { overdueDays: 0 })).to.deep.equal({ matchedRuleIds: ['r4'], output: { urgency: 'thuong', points: 0 } });
    });

    it('When ANY has matches that agree, Then the shared output is returned with every matching rule', async () => {
      const table = await tableOf({
        hitPolicy: 'ANY',
        inputs: [['overdueDays', 'number'], ['repeated', 'boolean']],
        outputs: [{ name: 'escalate' }],
        rules: [[['>= 10', '-'], ['true']], [['-', 'true'], ['true']], [['< 10', 'false'], ['false']]],
      });
      expect(evaluateDecision(table, { overdueDays: 12, repeated: true })).to.deep.equal({ matchedRuleIds: ['r1', 'r2'], output: { escalate: true } });
      expect(evaluateDecision(table, { overdueDays: 2, repeated: false })).to.deep.equal({ matchedRuleIds: ['r3'], output: { escalate: false } });
    });

    it('When ANY has matches that disagree, Then a DecisionError names them', async () => {
      const table = await tableOf(overdue('ANY'));
      const err = decisionError(() => evaluateDecision(table, { overdueDays: 12 }));
      expect(err.ruleIds).to.deep.equal(['r2', 'r3', 'r4']);
      expect(err.message).to.match(/ANY.*different results/);
    });

    it('When COLLECT has matches, Then every matching row\'s outputs are listed in table order', async () => {
      const table = await tableOf(overdue('COLLECT'));
      expect(evaluateDecision(table, { overdueDays: 4 })).to.deep.equal({
        matchedRuleIds: ['r1', 'r3', 'r4'],
        output: [{ urgency: 'theo-doi', points: 1 }, { urgency: 'cao', points: 3 }, { urgency: 'thuong', points: 0 }],
      });
    });

    it('When COLLECT finds nothing, Then the output is an empty list', async () => {
      const table = await tableOf(overdue('COLLECT', { rules: [[['>= 10'], ['"khan"', '5']]] }));
      expect(evaluateDecision(table, { overdueDays: 1 })).to.deep.equal({ matchedRuleIds: [], output: [] });
    });

    for (const [aggregation, expected, none] of [['SUM', 4, null], ['MIN', 0, null], ['MAX', 3, null], ['COUNT', 3, 0]] as const) {
      it(`When COLLECT ${aggregation} aggregates the points, Then the result is ${expected} (and ${none} with no match)`, async () => {
        const table = await tableOf({ ...overdue('COLLECT'), aggregation, outputs: [{ name: 'points', typeRef: 'number' }],
          rules: overdue('COLLECT').rules.map(([ins, outs]) => [ins, [outs[1]]]) });
        expect(evaluateDecision(table, { overdueDays: 4 })).to.deep.equal({ matchedRuleIds: ['r1', 'r3', 'r4'], output: expected });
        table.rules = table.rules.filter((r) => r.id === 'r2');
        expect(evaluateDecision(table, { overdueDays: 4 }).output).to.equal(none);
      });
    }

    it('When COLLECT SUM meets a non-number output, Then a DecisionError names the row', async () => {
      const table = await tableOf({ hitPolicy: 'COLLECT', aggregation: 'SUM', inputs: [['overdueDays', 'number']], outputs: [{ name: 'points' }],
        rules: [[['-'], ['1']], [['-'], ['"hai"']]] });
      const err = decisionError(() => evaluateDecision(table, { overdueDays: 1 }));
      expect(err.ruleIds).to.deep.equal(['r2']);
      expect(err.message).to.match(/SUM.*row 2.*not a number/);
    });

    it('When RULE ORDER has matches, Then the outputs are listed in table order', async () => {
      const table = await tableOf(overdue('RULE ORDER'));
      expect(evaluateDecision(table, { overdueDays: 12 })).to.deep.equal({
        matchedRuleIds: ['r2', 'r3', 'r4'],
        output: [{ urgency: 'khan', points: 5 }, { urgency: 'cao', points: 3 }, { urgency: 'thuong', points: 0 }],
      });
    });

    it('When a stored table carries a hit policy that is not supported, Then evaluation refuses with a DecisionError', async () => {
      const table = await tableOf(overdue('FIRST'));
      const corrupted = { ...table, hitPolicy: 'OUTPUT ORDER' } as unknown as DecisionTable;
      expect(decisionError(() => evaluateDecision(corrupted, { overdueDays: 1 })).message).to.match(/OUTPUT ORDER.*not supported/);
    });
  });

  describe('Given FEEL temporal values', () => {
    it('When an input is typed date and the case holds ISO text, Then it compares as a date and temporal outputs come back as text', async () => {
      const table = await tableOf({
        hitPolicy: 'FIRST',
        inputs: [['receivedOn', 'date']],
        outputs: [{ name: 'dueOn' }, { name: 'allowed' }],
        rules: [[['>= date("2025-07-01")'], ['date(receivedOn) + duration("P10D")', 'duration("P10D")']], [['-'], ['date(receivedOn) + duration("P15D")', 'duration("P15D")']]],
      });
      expect(evaluateDecision(table, { receivedOn: '2025-07-25' })).to.deep.equal({ matchedRuleIds: ['r1'], output: { dueOn: '2025-08-04', allowed: 'P10D' } });
      expect(evaluateDecision(table, { receivedOn: '2025-06-30' }).output).to.deep.equal({ dueOn: '2025-07-15', allowed: 'P15D' });
      expect(decisionError(() => evaluateDecision(table, { receivedOn: 'hôm qua' })).message).to.match(/expects a date/);
    });
  });

  describe('Given names that exist on Object.prototype', () => {
    let table: DecisionTable;
    before(async () => {
      table = await tableOf({
        hitPolicy: 'FIRST',
        inputs: [['constructor'], ['__proto__'], ['field']],
        outputs: [{ name: 'seen' }, { name: 'fieldConstructor' }],
        rules: [[['null', 'null', '-'], ['"nothing"', 'field.constructor']], [['-', '-', '-'], ['constructor', 'field.constructor']]],
      });
    });

    it('When the context lacks them, Then constructor and __proto__ resolve to null rather than Object internals', () => {
      expect(evaluateDecision(table, { field: 'xay-dung' })).to.deep.equal({ matchedRuleIds: ['r1'], output: { seen: 'nothing', fieldConstructor: null } });
    });

    it('When the context has them as its own keys (parsed from JSON), Then they are plain data and Object.prototype stays untouched', () => {
      const context = JSON.parse('{"constructor": "dat-dai", "__proto__": {"polluted": "yes"}, "field": {"constructor": "x"}}');
      const result = evaluateDecision(table, context);
      expect(result).to.deep.equal({ matchedRuleIds: ['r2'], output: { seen: 'dat-dai', fieldConstructor: 'x' } });
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
      expect(Object.getPrototypeOf(result.output)).to.equal(Object.prototype);
    });

    it('When a context object is a class instance, Then FEEL cannot reach its constructor either', () => {
      const output = evaluateDecision(table, { field: new Date(0) }).output as Record<string, unknown>;
      expect(output.fieldConstructor).to.equal(null);
    });
  });

  describe('Given DMN files that must not be deployed', () => {
    const cases: Array<[file: string, rule: string, advice: RegExp]> = [
      ['bad-not-xml.dmn', 'parse', /not a readable DMN 1\.3.*Check that the file is complete/],
      ['bad-dmn11.dmn', 'parse', /Save it as DMN 1\.3/],
      ['bad-unknown-element.dmn', 'parse', /could not be read and would be lost.*ruleGroup.*Correct or remove/],
      ['bad-no-definitions-id.dmn', 'definitions-id', /Give <definitions> an id/],
      ['bad-no-decision-table.dmn', 'no-decision-table', /no decision table.*"Decision table"/],
      ['bad-hit-policy.dmn', 'unsupported-hit-policy', /"OUTPUT ORDER".*Choose one of UNIQUE, FIRST/],
      ['bad-aggregation.dmn', 'unsupported-aggregation', /"AVG".*Choose SUM, MIN, MAX, COUNT/],
      ['bad-rule-entries.dmn', 'rule-entries', /row 2.*1 input .*2 input .*Fill every cell/],
      ['bad-input-expression.dmn', 'feel-input-expression', /«field \+».*not valid FEEL.*missing at the end.*Write the name of a case variable/],
      ['bad-input-entry.dmn', 'feel-input-entry', /row 1.*Lĩnh vực.*not a valid FEEL test.*comma may be missing.*Write text in double quotes/],
      ['bad-output-entry.dmn', 'feel-output-entry', /row 1.*not valid FEEL.*closing double quote/],
      ['bad-duplicate-output.dmn', 'duplicate-output-name', /both named "agency".*Give each output column its own name/],
      ['bad-output-name.dmn', 'output-name', /"__proto__".*cannot be used as a case variable/],
      ['bad-priority.dmn', 'priority-output-values', /PRIORITY.*Enter the allowed values/],
    ];
    for (const [file, rule, advice] of cases) {
      it(`When ${file} is validated, Then it reports a ${rule} error that says what to change, and nothing is parsed`, async () => {
        const { problems, parsed } = await validateDmn(fixture(file));
        const errors = problems.filter((p) => p.severity === 'error');
        expect(errors.map((p) => p.rule)).to.deep.equal([rule]);
        expect(errors[0].message).to.match(advice);
        expect(parsed).to.equal(undefined);
      });
    }

    it('When a decision is a literal expression, Then it is also reported as ignored (warning)', async () => {
      const { problems } = await validateDmn(fixture('bad-no-decision-table.dmn'));
      expect(problems).to.deep.include({
        elementId: 'routing', rule: 'unsupported-decision-logic', severity: 'warning',
        message: 'Decision "Phân luồng" is a LiteralExpression; only decision tables are evaluated, so it will be ignored. Turn it into a decision table or delete it.',
      });
    });

    it('When the problems point at elements, Then they carry the element ids the modeler shows', async () => {
      expect((await validateDmn(fixture('bad-rule-entries.dmn'))).problems[0].elementId).to.equal('r2');
      expect((await validateDmn(fixture('bad-input-expression.dmn'))).problems[0].elementId).to.equal('in-field');
      expect((await validateDmn(fixture('bad-duplicate-output.dmn'))).problems[0].elementId).to.equal('out-agency-2');
    });

    it('When text is written without double quotes, Then only warnings are raised and the table is still parsed', async () => {
      const { problems, parsed } = await validateDmn(fixture('bad-unquoted-text.dmn'));
      expect(problems.map((p) => [p.rule, p.severity, p.elementId])).to.deep.equal([['unquoted-text', 'warning', 'r1'], ['unquoted-text', 'warning', 'r1']]);
      expect(problems[0].message).to.match(/«xay dung» is read as the name of a case variable.*write "xay dung" in double quotes/);
      expect(parsed?.decisions).to.have.length(1);
    });

    it('When a hyphenated agency code is written without quotes, Then it is an error: FEEL reads CONG-AN as CONG minus AN and routes to nobody', async () => {
      const xml = readFileSync(join(ROOT, 'processes', 'routing.dmn'), 'utf8').replace('<outputEntry id="r-dat-dai-agency"><text>"SNNMT"</text>', '<outputEntry id="r-dat-dai-agency"><text>CONG-AN</text>');
      const { problems } = await validateDmn(xml);
      expect(problems.filter((p) => p.severity === 'error')).to.deep.equal([
        { elementId: 'r-dat-dai', rule: 'unquoted-text', severity: 'error', message: problems.find((p) => p.severity === 'error')!.message },
      ]);
      expect(problems.find((p) => p.severity === 'error')!.message).to.contain('CONG minus AN').and.contain('"CONG-AN"');
    });

    it('When the body is empty, Then it is a parse error', async () => {
      expect((await validateDmn('  ')).problems.map((p) => p.rule)).to.deep.equal(['parse']);
    });

    it('When parseDmn is given a bad file, Then it rejects with an UnprocessableError carrying the problems', async () => {
      let caught: unknown;
      try {
        await parseDmn(fixture('bad-hit-policy.dmn'));
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(UnprocessableError);
      expect((caught as UnprocessableError).problems).to.have.length(1);
    });
  });
});
