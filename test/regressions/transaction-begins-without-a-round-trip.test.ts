import { expect } from 'chai';
import { connect, type Db } from '../../db/connect.js';
import { freshDb, ON_POSTGRES, type TestDb } from '../helpers/db.js';

/**
 * Issue 20: knex waits for BEGIN's answer before it sends a transaction's
 * first statement, so every command paid a round trip for BEGIN alone. On
 * PostgreSQL the connection now pipelines (node-postgres `pipeline: true`)
 * and BEGIN is not waited for (db/connect.ts beginWithoutWaiting): the first
 * statement is on the wire before BEGIN's answer is read. Embedded PGlite has
 * no wire: nothing to check there.
 */
describe('Regression: a transaction sends its first statement without waiting for BEGIN', () => {
  let t: TestDb;
  let db: Db;
  /** What went over the one pooled connection, in order: statements written, answers (ReadyForQuery) read. */
  let wire: string[];

  before(async function () {
    if (!ON_POSTGRES) this.skip();
    t = await freshDb();
    db = connect({ databaseUrl: t.url!, poolMax: 1 });
    // The one connection of the pool, watched: what the client writes, and each answer that ends a statement.
    const conn = await db.client.acquireConnection();
    const stream = conn.connection.stream;
    const write = stream.write.bind(stream);
    stream.write = (chunk: Buffer, ...rest: unknown[]) => {
      if (wire) wire.push(`write ${chunk.toString('latin1').match(/BEGIN|COMMIT|ROLLBACK|select \d+|insert/)?.[0] ?? '?'}`);
      return write(chunk, ...rest);
    };
    conn.connection.on('readyForQuery', () => wire?.push('answer'));
    await db.client.releaseConnection(conn);
    await db.schema.createTable('pipelined', (tb) => tb.integer('n').primary());
  });
  after(async () => {
    await db?.destroy();
    await t?.close();
  });
  beforeEach(() => {
    wire = [];
  });

  it('Given a pooled connection, when a transaction runs a statement, then the statement is written before BEGIN is answered, and the transaction commits', async () => {
    const result = await db.transaction(async (trx) => (await trx.raw('select 7 as n')).rows[0].n);
    expect(result).to.equal(7);
    expect(wire).to.deep.equal(['write BEGIN', 'write select 7', 'answer', 'answer', 'write COMMIT', 'answer']);
  });

  it('Given a transaction whose second statement fails, when it rolls back, then its first write is gone and the connection serves the next transaction', async () => {
    let failed: unknown;
    try {
      await db.transaction(async (trx) => {
        await trx('pipelined').insert({ n: 1 });
        await trx('pipelined').insert({ n: 1 });
      });
    } catch (err) {
      failed = err;
    }
    expect((failed as { code?: string } | undefined)?.code).to.equal('23505');
    expect(await db('pipelined').count('* as c').first()).to.deep.equal({ c: 0 });
    await db.transaction((trx) => trx('pipelined').insert({ n: 2 }));
    expect(await db('pipelined').select('n')).to.deep.equal([{ n: 2 }]);
  });
});
