import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../../db/connect.js';
import { catalogueEntries, replaceCatalogue } from '../../db/catalogue.js';
import { systemClock, type Clock } from '../clock.js';
import { vietnamDate } from '../vietnam-time.js';
import { UnprocessableError, type FieldProblem } from '../errors.js';
import { createAjv, fieldProblems } from '../json-schema.js';

export const CATALOGUE_KINDS = ['agencies', 'units', 'fields', 'procedures'] as const;
export type CatalogueKind = (typeof CATALOGUE_KINDS)[number];

export interface CatalogueEntry {
  code: string;
  name: string;
  validFrom: string;
  validTo: string | null;
  successor?: string;
  formerUnits?: string[];
  [key: string]: unknown;
}


export function inForce(e: Pick<CatalogueEntry, 'validFrom' | 'validTo'>, day: string): boolean {
  return e.validFrom <= day && (e.validTo === null || e.validTo === undefined || day <= e.validTo);
}

/** Read and schema-check processes/catalogue/*.json; a bad file stops the boot with the file and field named. */
export function readCatalogueFiles(dir: string): Record<CatalogueKind, CatalogueEntry[]> {
  const schemaPath = join(dir, 'catalogue.schema.json');
  const ajv = createAjv();
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
  ajv.addSchema(schema);
  const out = {} as Record<CatalogueKind, CatalogueEntry[]>;
  for (const kind of CATALOGUE_KINDS) {
    const file = join(dir, `${kind}.json`);
    if (!existsSync(file)) {
      out[kind] = [];
      continue;
    }
    const data = JSON.parse(readFileSync(file, 'utf8'));
    const validate = ajv.getSchema(`${schema.$id}#/$defs/${kind}`)!;
    if (!validate(data)) {
      const problems = fieldProblems(validate.errors).slice(0, 5).map((p) => `${p.path} ${p.message}`).join('; ');
      throw new Error(`${file} does not match catalogue.schema.json: ${problems}`);
    }
    out[kind] = data;
  }
  return out;
}

/** Replace the catalogue in the database with the files' content, in one transaction (a kind with no file is emptied). */
export async function syncCatalogue(db: Db, entries: Record<CatalogueKind, CatalogueEntry[]>, clock: Clock = systemClock): Promise<number> {
  return replaceCatalogue(db, Object.fromEntries(CATALOGUE_KINDS.map((kind) => [kind, entries[kind] ?? []])), clock.now());
}

/**
 * The catalogue as the runtime reads it: a snapshot of the table, small
 * enough (hundreds of rows) to hold in memory, refreshed after a change.
 * Validity dates let units and agencies merge and split: a new case may use
 * only entries in force on its date, while a running case keeps what it had.
 */
export class Catalogue {
  private entries = new Map<CatalogueKind, Map<string, CatalogueEntry>>();

  constructor(
    private readonly db: Db,
    /** When an entry was last written (updated_at). */
    private readonly clock: Clock = systemClock,
  ) {}

  /** Replace the stored catalogue with `entries` (readCatalogueFiles), then read it back. */
  async sync(entries: Record<CatalogueKind, CatalogueEntry[]>): Promise<number> {
    const n = await syncCatalogue(this.db, entries, this.clock);
    await this.refresh();
    return n;
  }

  async refresh(): Promise<void> {
    const next = new Map<CatalogueKind, Map<string, CatalogueEntry>>();
    for (const kind of CATALOGUE_KINDS) next.set(kind, new Map());
    for (const r of await catalogueEntries(this.db)) next.get(r.kind as CatalogueKind)?.set(r.code, r.data as CatalogueEntry);
    this.entries = next;
  }

  list(kind: CatalogueKind, day?: string): CatalogueEntry[] {
    const all = [...(this.entries.get(kind)?.values() ?? [])];
    return day ? all.filter((e) => inForce(e, day)) : all;
  }

  get(kind: CatalogueKind, code: string): CatalogueEntry | undefined {
    return this.entries.get(kind)?.get(code);
  }

  isEmpty(): boolean {
    return [...this.entries.values()].every((m) => m.size === 0);
  }

  /** Entries that replaced `code` and are in force on `day` (successor chain, or units formed from it). */
  replacements(kind: CatalogueKind, code: string, day: string): CatalogueEntry[] {
    const out: CatalogueEntry[] = [];
    let e = this.get(kind, code);
    const seen = new Set<string>();
    while (e?.successor && !seen.has(e.successor)) {
      seen.add(e.successor);
      e = this.get(kind, e.successor);
      if (e && inForce(e, day)) out.push(e);
    }
    if (kind === 'units') out.push(...this.list('units', day).filter((u) => u.formerUnits?.includes(code)));
    return out;
  }

  /**
   * New input (intake variables, a classification form) may only name codes in
   * force on `at`. Throws 422 naming each field, with what replaced a retired code.
   */
  checkCodes(values: Record<string, unknown>, at: Date, fields: Record<string, CatalogueKind> = DEFAULT_CODE_FIELDS): void {
    if (this.isEmpty()) return;
    const day = vietnamDate(at);
    const problems: FieldProblem[] = [];
    for (const [field, kind] of Object.entries(fields)) {
      const code = values[field];
      if (code === undefined || code === null) continue;
      const entry = typeof code === 'string' ? this.get(kind, code) : undefined;
      if (!entry) {
        problems.push({ path: `/${field}`, message: `"${String(code)}" is not in the ${kind} catalogue` });
      } else if (!inForce(entry, day)) {
        const instead = this.replacements(kind, entry.code, day).slice(0, 8).map((r) => r.code);
        problems.push({
          path: `/${field}`,
          message: `"${entry.code}" (${entry.name}) is not in force on ${day}${instead.length ? `; use ${instead.join(' or ')}` : ''}`,
        });
      }
    }
    if (problems.length) throw new UnprocessableError('Some codes are not in the catalogue in force today.', problems);
  }
}

/**
 * What a diagram may name as a literal candidate group: a role, or an agency
 * code of the catalogue. Agencies no longer in force on `day` are listed apart
 * (with their successor) so validation can warn instead of refusing.
 */
export function candidateGroupNames(roles: readonly string[], agencies: CatalogueEntry[], day: string): { known: string[]; retired: Record<string, string> } {
  const retired: Record<string, string> = {};
  for (const a of agencies) {
    if (!inForce(a, day)) retired[a.code] = `${a.name}, until ${a.validTo}${a.successor ? `; successor ${a.successor}` : ''}`;
  }
  return { known: [...roles, ...agencies.filter((a) => !retired[a.code]).map((a) => a.code)], retired };
}

/** Variable names that carry catalogue codes in intake data and forms. */
export const DEFAULT_CODE_FIELDS: Record<string, CatalogueKind> = {
  field: 'fields',
  unit: 'units',
  procedure: 'procedures',
  agency: 'agencies',
  toAgency: 'agencies',
  findingAgency: 'agencies',
};
