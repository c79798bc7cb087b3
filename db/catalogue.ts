import { prepared } from './prepared.js';
import type { Knex } from 'knex';
import type { Db } from './connect.js';
import canonicalize from 'canonicalize';

type Conn = Db | Knex.Transaction;

/** One catalogue entry as stored: its code, name and validity in columns, the whole entry in `data`. */
export interface CatalogueRecord {
  code: string;
  name: string;
  validFrom: string;
  validTo?: string | null;
}

/** A stored entry with who wrote it last. */
export interface StoredEntry {
  kind: string;
  code: string;
  data: unknown;
  source: 'file' | 'api';
  updatedAt: Date;
  updatedBy: string | null;
}

const parse = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);

function entryOf(r: any): StoredEntry {
  return { kind: r.kind, code: r.code, data: parse(r.data), source: r.source, updatedAt: new Date(r.updated_at), updatedBy: r.updated_by ?? null };
}

/** Equal as data: jsonb gives keys back in its own order, so the text of a stored entry and of the same entry sent again differ. */
export function sameData(a: unknown, b: unknown): boolean {
  return canonicalize(a) === canonicalize(b);
}

/** Bump the catalogue and calendar version in the writer's transaction: every node reloads on its next request. */
export async function bumpReferenceVersion(trx: Knex.Transaction): Promise<number> {
  const [row] = await trx('reference_version').where({ id: 1 }).increment('version', 1).returning('version');
  return Number(row.version);
}

/** The version the stored catalogue and calendar are at (one indexed row: cheap enough per request). */
export async function referenceVersion(db: Conn): Promise<number> {
  const row = await prepared(db('reference_version').where({ id: 1 }).first('version'));
  return Number(row?.version ?? 0);
}

/**
 * Seed the kinds named in `entries` from the shipped files, in the caller's
 * transaction: file-written entries become exactly the list (those no longer
 * listed are deleted); entries an analyst wrote (source api) are neither
 * overwritten nor deleted. Returns the entries whose stored data changed,
 * before and after, for the history.
 */
export async function seedCatalogue(
  trx: Knex.Transaction,
  entries: Record<string, CatalogueRecord[]>,
  at: Date,
  by: string,
): Promise<Array<{ kind: string; code: string; before: unknown; after: unknown }>> {
  const changed: Array<{ kind: string; code: string; before: unknown; after: unknown }> = [];
  for (const [kind, list] of Object.entries(entries)) {
    const stored = new Map((await trx('catalogue_entries').where({ kind }).select('*')).map((r) => [r.code as string, entryOf(r)]));
    const listed = new Set(list.map((e) => e.code));
    for (const [code, e] of stored) {
      if (e.source === 'file' && !listed.has(code)) {
        await trx('catalogue_entries').where({ kind, code }).delete();
        changed.push({ kind, code, before: e.data, after: null });
      }
    }
    for (const e of list) {
      const old = stored.get(e.code);
      if (old?.source === 'api') continue;
      if (old && sameData(old.data, e)) continue;
      await trx('catalogue_entries')
        .insert({ kind, code: e.code, name: e.name, valid_from: e.validFrom, valid_to: e.validTo ?? null, data: JSON.stringify(e), updated_at: at, source: 'file', updated_by: by })
        .onConflict(['kind', 'code'])
        .merge();
      changed.push({ kind, code: e.code, before: old?.data ?? null, after: e });
    }
  }
  return changed;
}

/** One entry, locked for the writer's transaction when `forUpdate`. */
export async function findEntry(db: Conn, kind: string, code: string, forUpdate = false): Promise<StoredEntry | undefined> {
  const q = db('catalogue_entries').where({ kind, code }).first('*');
  const row = await (forUpdate ? q.forUpdate() : q);
  return row ? entryOf(row) : undefined;
}

/** Create or replace an entry as an analyst's (source api: the files no longer overwrite it). */
export async function putEntry(trx: Knex.Transaction, kind: string, e: CatalogueRecord, at: Date, by: string): Promise<void> {
  await trx('catalogue_entries')
    .insert({ kind, code: e.code, name: e.name, valid_from: e.validFrom, valid_to: e.validTo ?? null, data: JSON.stringify(e), updated_at: at, source: 'api', updated_by: by })
    .onConflict(['kind', 'code'])
    .merge();
}

/** Every catalogue entry, its stored data parsed. */
export async function catalogueEntries(db: Conn): Promise<StoredEntry[]> {
  return (await db('catalogue_entries').select('*')).map(entryOf);
}

/** A stored calendar year. */
export interface StoredCalendarYear {
  year: number;
  data: unknown;
  source: 'file' | 'api';
  updatedAt: Date;
  updatedBy: string;
}

function yearOf(r: any): StoredCalendarYear {
  return { year: Number(r.year), data: parse(r.data), source: r.source, updatedAt: new Date(r.updated_at), updatedBy: r.updated_by };
}

export async function calendarYears(db: Conn): Promise<StoredCalendarYear[]> {
  return (await db('calendar_years').select('*').orderBy('year')).map(yearOf);
}

export async function findCalendarYear(db: Conn, year: number, forUpdate = false): Promise<StoredCalendarYear | undefined> {
  const q = db('calendar_years').where({ year }).first('*');
  const row = await (forUpdate ? q.forUpdate() : q);
  return row ? yearOf(row) : undefined;
}

/** Write a year (replacing what it held). */
export async function putCalendarYear(trx: Knex.Transaction, year: number, data: unknown, source: 'file' | 'api', at: Date, by: string): Promise<void> {
  await trx('calendar_years')
    .insert({ year, data: JSON.stringify(data), source, updated_at: at, updated_by: by })
    .onConflict('year')
    .merge();
}
