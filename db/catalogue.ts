import type { Db } from './connect.js';

/** One catalogue entry as stored: its code, name and validity in columns, the whole entry in `data`. */
export interface CatalogueRecord {
  code: string;
  name: string;
  validFrom: string;
  validTo?: string | null;
}

/**
 * Make the catalogue_entries of each kind named in `entries` exactly that
 * list (entries of the kind not in it are deleted), in one transaction.
 * Returns how many entries were written.
 */
export async function replaceCatalogue(db: Db, entries: Record<string, CatalogueRecord[]>, at: Date): Promise<number> {
  let n = 0;
  await db.transaction(async (trx) => {
    for (const [kind, list] of Object.entries(entries)) {
      await trx('catalogue_entries').where({ kind }).whereNotIn('code', list.map((e) => e.code)).delete();
      for (const e of list) {
        await trx('catalogue_entries')
          .insert({ kind, code: e.code, name: e.name, valid_from: e.validFrom, valid_to: e.validTo ?? null, data: JSON.stringify(e), updated_at: at })
          .onConflict(['kind', 'code'])
          .merge();
        n++;
      }
    }
  });
  return n;
}

/** Every catalogue entry, its stored data parsed. */
export async function catalogueEntries(db: Db): Promise<Array<{ kind: string; code: string; data: unknown }>> {
  const rows = await db('catalogue_entries').select('kind', 'code', 'data');
  return rows.map((r) => ({ kind: r.kind, code: r.code, data: typeof r.data === 'string' ? JSON.parse(r.data) : r.data }));
}
