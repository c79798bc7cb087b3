import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv and ajv-formats are CommonJS; under NodeNext their default exports may arrive wrapped.
const Ajv2020 = ((Ajv2020Module as any).default ?? Ajv2020Module) as typeof Ajv2020Module.default;
const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as (ajv: InstanceType<typeof Ajv2020>) => unknown;

const DIR = fileURLToPath(new URL('../../processes/catalogue/', import.meta.url));
const read = <T>(name: string): T => JSON.parse(readFileSync(DIR + name, 'utf8')) as T;

interface Dated {
  code: string;
  name: string;
  validFrom: string;
  validTo: string | null;
  note?: string;
}
interface Agency extends Dated {
  nameEn: string;
  shortName?: string;
  kind: 'department' | 'provincial-agency' | 'utility' | 'local-government' | 'coordinator' | 'home-affairs' | 'hotline';
  level: 1 | 2 | null;
  unit?: string;
  successor?: string;
}
interface Unit extends Dated {
  nameEn: string;
  kind: 'city' | 'town' | 'district' | 'commune' | 'ward';
  parent: string | null;
  successor?: string;
  formerUnits?: string[];
}
interface Field extends Dated {
  nameEn: string;
  defaultAgency: string;
}
interface Procedure extends Dated {
  nameEn?: string;
  field: string;
  agency: string;
  implementedAt?: Array<'province' | 'district' | 'commune'>;
  successor?: string;
}

const schema = read<Record<string, unknown>>('catalogue.schema.json');
const agencies = read<Agency[]>('agencies.json');
const units = read<Unit[]>('units.json');
const fields = read<Field[]>('fields.json');
const procedures = read<Procedure[]>('procedures.json');

const FILES: Array<[string, string, Dated[]]> = [
  ['agencies.json', 'agencies', agencies],
  ['units.json', 'units', units],
  ['fields.json', 'fields', fields],
  ['procedures.json', 'procedures', procedures],
];

const DIRECTIVE = '2018-02-07'; // Văn bản 1407/UBND-HCC
const DEPARTMENTS_MERGED = '2025-03-01';
const TWO_TIER = '2025-07-01'; // no district-level government from this day

const DISTRICT_LEVEL = new Set<Unit['kind']>(['city', 'town', 'district']);
const COMMUNE_LEVEL = new Set<Unit['kind']>(['commune', 'ward']);
// Letters that exist only in Vietnamese spelling (tone marks, ă â ê ô ơ ư đ).
const VI_DIACRITIC = /[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]/iu;

function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}
function inForce(e: Dated, d: string): boolean {
  return e.validFrom <= d && (e.validTo === null || d <= e.validTo);
}
function byCode<T extends { code: string }>(list: T[]): Map<string, T> {
  return new Map(list.map((e) => [e.code, e]));
}
const agencyByCode = byCode(agencies);
const unitByCode = byCode(units);
const fieldByCode = byCode(fields);
const procedureByCode = byCode(procedures);

/** The agency that handles work addressed to `code` on day `d`: itself, or the end of its successor chain. */
function resolveAgency(code: string, d: string): Agency | undefined {
  const seen = new Set<string>();
  let a = agencyByCode.get(code);
  while (a && !inForce(a, d)) {
    if (seen.has(a.code) || a.validTo === null || d <= a.validTo || !a.successor) return undefined;
    seen.add(a.code);
    a = agencyByCode.get(a.successor);
  }
  return a;
}

/** Days on which something changes inside [from, to]: every entry's first day and the day after its last. */
function breakpoints(from: string, to: string | null): string[] {
  const days = new Set<string>([from]);
  for (const e of [...agencies, ...units, ...fields, ...procedures]) {
    days.add(e.validFrom);
    if (e.validTo) days.add(addDays(e.validTo, 1));
  }
  if (to) days.add(to);
  return [...days].filter((d) => d >= from && (to === null || d <= to)).sort();
}

describe('catalogue data (processes/catalogue)', () => {
  describe('JSON Schema', () => {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats(ajv);
    ajv.addSchema(schema);
    const id = schema.$id as string;

    it('is a draft 2020-12 schema with $defs for every entry kind', () => {
      expect(schema.$schema).to.equal('https://json-schema.org/draft/2020-12/schema');
      expect(schema.$defs).to.include.keys('agency', 'unit', 'field', 'procedure', 'code', 'date');
    });

    for (const [file, def, data] of FILES) {
      it(`${file} validates against $defs/${def} and against the root schema`, () => {
        const validate = ajv.getSchema(`${id}#/$defs/${def}`);
        expect(validate, `$defs/${def}`).to.be.a('function');
        const ok = validate!(data);
        expect(ok, ajv.errorsText(validate!.errors, { separator: '\n' })).to.equal(true);
        const root = ajv.getSchema(id)!;
        expect(root(data), ajv.errorsText(root.errors)).to.equal(true);
      });
    }

    it('rejects bad codes, impossible dates, unknown keys and a local focal point without a unit', () => {
      const validate = ajv.getSchema(`${id}#/$defs/agency`)!;
      const good = { ...agencies[0] };
      expect(validate(good)).to.equal(true);
      expect(validate({ ...good, code: 'vp-ubnd' })).to.equal(false);
      expect(validate({ ...good, code: 'VP_UBND' })).to.equal(false);
      expect(validate({ ...good, validFrom: '2018-02-30' })).to.equal(false);
      expect(validate({ ...good, validTo: '7/2/2018' })).to.equal(false);
      expect(validate({ ...good, colour: 'red' })).to.equal(false);
      expect(validate({ ...good, kind: 'local-government', level: 2 })).to.equal(false);
      expect(validate({ ...good, successor: 'SNV', validTo: null })).to.equal(false);
      const unit = ajv.getSchema(`${id}#/$defs/unit`)!;
      const commune = units.find((u) => COMMUNE_LEVEL.has(u.kind))!;
      const { formerUnits: _formerUnits, ...withoutFormer } = commune;
      expect(unit(withoutFormer)).to.equal(false);
    });
  });

  describe('codes', () => {
    for (const [file, , data] of FILES) {
      it(`are unique in ${file}`, () => {
        const seen = new Set<string>();
        const dupes = data.map((e) => e.code).filter((c) => (seen.has(c) ? true : (seen.add(c), false)));
        expect(dupes).to.deep.equal([]);
      });
    }
  });

  describe('references resolve', () => {
    it('field.defaultAgency → agencies.json', () => {
      for (const f of fields) expect(agencyByCode.has(f.defaultAgency), `${f.code} → ${f.defaultAgency}`).to.equal(true);
    });
    it('procedure.field → fields.json, procedure.agency → agencies.json, procedure.successor → procedures.json', () => {
      for (const p of procedures) {
        expect(fieldByCode.has(p.field), `${p.code} field ${p.field}`).to.equal(true);
        expect(agencyByCode.has(p.agency), `${p.code} agency ${p.agency}`).to.equal(true);
        if (p.successor) expect(procedureByCode.has(p.successor), `${p.code} successor ${p.successor}`).to.equal(true);
      }
    });
    it('agency.unit → units.json, agency.successor → agencies.json', () => {
      for (const a of agencies) {
        if (a.unit !== undefined) expect(unitByCode.has(a.unit), `${a.code} unit ${a.unit}`).to.equal(true);
        if (a.successor !== undefined) expect(agencyByCode.has(a.successor), `${a.code} successor ${a.successor}`).to.equal(true);
      }
    });
    it('unit.parent, unit.successor and unit.formerUnits → units.json', () => {
      for (const u of units) {
        for (const ref of [u.parent, u.successor, ...(u.formerUnits ?? [])]) {
          if (ref === null || ref === undefined) continue;
          expect(unitByCode.has(ref), `${u.code} → ${ref}`).to.equal(true);
          expect(ref, `${u.code} refers to itself`).to.not.equal(u.code);
        }
      }
    });
  });

  describe('validity intervals', () => {
    it('validFrom is on or after the directive and not after validTo', () => {
      for (const [file, , data] of FILES) {
        for (const e of data) {
          expect(e.validFrom >= DIRECTIVE, `${file} ${e.code} starts before ${DIRECTIVE}`).to.equal(true);
          if (e.validTo !== null) expect(e.validFrom <= e.validTo, `${file} ${e.code}: ${e.validFrom} > ${e.validTo}`).to.equal(true);
        }
      }
    });

    it('a successor is in force on the day after its predecessor ends (no gap, no successor cycles)', () => {
      const lists: Array<[string, Array<Dated & { successor?: string }>, Map<string, Dated & { successor?: string }>]> = [
        ['agency', agencies, agencyByCode],
        ['unit', units, unitByCode],
        ['procedure', procedures, procedureByCode],
      ];
      for (const [what, list, index] of lists) {
        for (const e of list) {
          if (!e.successor) continue;
          expect(e.validTo, `${what} ${e.code} has a successor but no validTo`).to.be.a('string');
          const next = index.get(e.successor)!;
          const day = addDays(e.validTo!, 1);
          expect(inForce(next, day), `${what} ${e.successor} not in force on ${day} after ${e.code}`).to.equal(true);
          const seen = new Set<string>([e.code]);
          for (let c = index.get(e.successor); c; c = c.successor ? index.get(c.successor) : undefined) {
            expect(seen.has(c.code), `${what} successor cycle through ${c.code}`).to.equal(false);
            seen.add(c.code);
          }
        }
      }
    });

    it('a parent unit covers its children; former units end the day before the new unit starts', () => {
      for (const u of units) {
        if (u.parent) {
          const p = unitByCode.get(u.parent)!;
          expect(inForce(p, u.validFrom) && (p.validTo === null || (u.validTo !== null && u.validTo <= p.validTo)), `${u.parent} does not cover ${u.code}`).to.equal(true);
        }
        for (const f of u.formerUnits ?? []) {
          const former = unitByCode.get(f)!;
          expect(former.validTo, `${u.code}: former unit ${f} has no end`).to.equal(addDays(u.validFrom, -1));
        }
      }
    });

    it('a focal-point agency lives exactly as long as its unit', () => {
      for (const a of agencies.filter((x) => x.unit)) {
        const u = unitByCode.get(a.unit!)!;
        expect([a.validFrom, a.validTo], `${a.code} vs ${u.code}`).to.deep.equal([u.validFrom, u.validTo]);
      }
    });
  });

  describe('focal points (đầu mối cấp 2)', () => {
    it('Đồng Nai had 11 district-level units on the directive date: TP Biên Hòa, TX Long Khánh and 9 huyện', () => {
      const at2018 = units.filter((u) => DISTRICT_LEVEL.has(u.kind) && inForce(u, DIRECTIVE));
      expect(at2018).to.have.length(11);
      expect(at2018.filter((u) => u.kind === 'district')).to.have.length(9);
      expect(at2018.map((u) => u.name)).to.include.members(['Thành phố Biên Hòa', 'Thị xã Long Khánh']);
    });

    it('every 2018 district-level unit has a level-2 local-government focal point in force on the directive date', () => {
      for (const u of units.filter((x) => inForce(x, DIRECTIVE))) {
        const focal = agencies.filter((a) => a.unit === u.code && a.kind === 'local-government' && a.level === 2 && inForce(a, DIRECTIVE));
        expect(focal, `no focal point for ${u.code}`).to.have.length(1);
        expect(focal[0].name.startsWith('Văn phòng HĐND và UBND '), focal[0].name).to.equal(true);
      }
    });

    it('every unit, on every day it is in force, has exactly one focal point', () => {
      for (const u of units) {
        for (const d of breakpoints(u.validFrom, u.validTo)) {
          const focal = agencies.filter((a) => a.unit === u.code && inForce(a, d));
          expect(focal, `${u.code} on ${d}`).to.have.length(1);
        }
      }
    });

    it('level-2 agencies are exactly the local-government focal points', () => {
      for (const a of agencies) expect(a.level === 2, a.code).to.equal(a.kind === 'local-government');
    });
  });

  describe('routing continuity', () => {
    it('every field, on every day it is in force, reaches a level-1 agency in force (directly or via successors)', () => {
      for (const f of fields) {
        for (const d of breakpoints(f.validFrom, f.validTo)) {
          const a = resolveAgency(f.defaultAgency, d);
          expect(a, `${f.code} → ${f.defaultAgency} on ${d}`).to.not.equal(undefined);
          if (f.code !== 'KHAC') expect(a!.level, `${f.code} → ${a!.code}`).to.equal(1);
        }
      }
    });

    it('the field "Khác" goes to the coordinator', () => {
      expect(agencyByCode.get(fieldByCode.get('KHAC')!.defaultAgency)!.kind).to.equal('coordinator');
    });

    it('every procedure, on every day it is in force, has its field in force and reaches an agency in force', () => {
      for (const p of procedures) {
        for (const d of breakpoints(p.validFrom, p.validTo)) {
          expect(inForce(fieldByCode.get(p.field)!, d), `${p.code} field ${p.field} on ${d}`).to.equal(true);
          expect(resolveAgency(p.agency, d), `${p.code} → ${p.agency} on ${d}`).to.not.equal(undefined);
        }
      }
    });

    it('models the 2025-03-01 department merges', () => {
      const expected: Record<string, string> = { STTTT: 'SKHCN', SLDTBXH: 'SNV', SKHDT: 'STC', STNMT: 'SNNMT', SNNPTNT: 'SNNMT', SGTVT: 'SXD' };
      for (const [from, to] of Object.entries(expected)) {
        expect(resolveAgency(from, '2025-02-28')!.code, `${from} before`).to.equal(from);
        expect(resolveAgency(from, DEPARTMENTS_MERGED)!.code, `${from} after`).to.equal(to);
      }
      expect(agencyByCode.get('SNNMT')!.name).to.equal('Sở Nông nghiệp và Môi trường');
      expect(inForce(agencyByCode.get('SNNMT')!, '2025-02-28')).to.equal(false);
    });

    it('models Long Khánh becoming a city and the end of district-level government on 2025-07-01', () => {
      const town = unitByCode.get('TX-LONG-KHANH')!;
      const city = unitByCode.get(town.successor!)!;
      expect(city.kind).to.equal('city');
      expect(city.validFrom).to.equal(addDays(town.validTo!, 1));
      expect(units.filter((u) => DISTRICT_LEVEL.has(u.kind) && inForce(u, '2025-06-30'))).to.have.length(11);
      expect(units.filter((u) => DISTRICT_LEVEL.has(u.kind) && inForce(u, TWO_TIER))).to.deep.equal([]);
      expect(agencies.filter((a) => a.kind === 'local-government' && inForce(a, TWO_TIER)).every((a) => COMMUNE_LEVEL.has(unitByCode.get(a.unit!)!.kind))).to.equal(true);
    });

    it('every district-level unit in force on 2025-06-30 is a former unit of some commune-level unit, so new cases can move', () => {
      const lastDistricts = units.filter((u) => DISTRICT_LEVEL.has(u.kind) && inForce(u, '2025-06-30'));
      const covered = new Set(units.flatMap((u) => u.formerUnits ?? []));
      for (const u of lastDistricts) expect(covered.has(u.code), u.code).to.equal(true);
      for (const u of units.filter((x) => COMMUNE_LEVEL.has(x.kind))) expect(u.validFrom, u.code).to.equal(TWO_TIER);
    });
  });

  describe('names', () => {
    const named: Array<[string, string, string]> = [
      ...agencies.flatMap((a): Array<[string, string, string]> => [['agency', a.code, a.name], ...(a.shortName ? [['agency', a.code, a.shortName] as [string, string, string]] : [])]),
      ...units.map((u): [string, string, string] => ['unit', u.code, u.name]),
      ...fields.map((f): [string, string, string] => ['field', f.code, f.name]),
      ...procedures.map((p): [string, string, string] => ['procedure', p.code, p.name]),
    ];

    it('Vietnamese names are NFC, trimmed, and carry Vietnamese diacritics', () => {
      for (const [what, code, name] of named) {
        expect(name, `${what} ${code}`).to.equal(name.normalize('NFC'));
        expect(name, `${what} ${code}`).to.equal(name.trim().replace(/\s{2,}/g, ' '));
        expect(VI_DIACRITIC.test(name), `${what} ${code}: "${name}" has no Vietnamese diacritics`).to.equal(true);
      }
    });

    it('English names are plain ASCII', () => {
      for (const e of [...agencies, ...units, ...fields, ...procedures] as Array<{ code: string; nameEn?: string }>) {
        if (e.nameEn !== undefined) expect(/^[\x20-\x7E]+$/.test(e.nameEn), `${e.code}: ${e.nameEn}`).to.equal(true);
      }
    });

    it('spells the directive addressees with full diacritics', () => {
      const expected: Record<string, string> = {
        'VP-UBND': 'Văn phòng UBND tỉnh',
        SNV: 'Sở Nội vụ',
        STTTT: 'Sở Thông tin và Truyền thông',
        'CONG-AN': 'Công an tỉnh',
        'CS-PCCC': 'Cảnh sát Phòng cháy chữa cháy tỉnh',
        BHXH: 'Bảo hiểm Xã hội tỉnh',
        'CUC-THUE': 'Cục Thuế tỉnh',
        KBNN: 'Kho bạc Nhà nước tỉnh',
        'CAP-NUOC': 'Công ty CP Cấp nước Đồng Nai',
        'DIEN-LUC': 'Công ty TNHH MTV Điện lực Đồng Nai',
        'BUU-DIEN': 'Bưu điện tỉnh',
        TTHCC: 'Trung tâm Hành chính công tỉnh',
        'TONG-DAI-1022': 'Tổng đài dịch vụ công 1022',
        'VP-TP-BIEN-HOA': 'Văn phòng HĐND và UBND thành phố Biên Hòa',
        'VP-H-DINH-QUAN': 'Văn phòng HĐND và UBND huyện Định Quán',
      };
      for (const [code, name] of Object.entries(expected)) expect(agencyByCode.get(code)?.name, code).to.equal(name);
      expect(agencyByCode.get('VP-UBND')!.kind).to.equal('coordinator');
      expect(agencyByCode.get('SNV')!.kind).to.equal('home-affairs');
      expect(agencyByCode.get('TONG-DAI-1022')!.kind).to.equal('hotline');
    });

    it('unit names start with their kind in Vietnamese', () => {
      const prefix: Record<Unit['kind'], string> = { city: 'Thành phố ', town: 'Thị xã ', district: 'Huyện ', ward: 'Phường ', commune: 'Xã ' };
      for (const u of units) expect(u.name.startsWith(prefix[u.kind]), `${u.code}: ${u.name}`).to.equal(true);
    });
  });
});
