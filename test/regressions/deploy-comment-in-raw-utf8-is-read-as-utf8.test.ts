import { expect } from 'chai';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../api/app.js';
import { fixture } from '../helpers/system.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * A black-box check of the analyst guide (2026-12-08): `-H "X-Deploy-Comment: Nâng lên 4"` (typed, so curl
 * sends its UTF-8 bytes) was stored as "NÃ¢ng lÃªn 4" — Node hands header bytes over as Latin-1 — in the
 * version and in the hash-chained definition.deployed event, for good. Now a header with bytes above ASCII is
 * read as UTF-8, and refused (400 naming the header) when it is not UTF-8; percent-encoding works as before.
 * Sent through a listening server with node:http, which writes a header's characters as bytes as given (as
 * curl does): supertest would re-encode them.
 */
describe('Regression: a deploy comment sent as raw UTF-8 is stored as typed', () => {
  let t: TestDb;
  let h: Hotline;
  let server: Server;
  let analyst: { Authorization: string };
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    analyst = await h.s.as('analyst', 'SNV');
    server = createApp(h.s).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
  });
  after(async () => {
    server.close();
    await t.close();
  });

  /** POST the diagram with the comment header's bytes exactly as given. */
  const deploy = (comment: Buffer, xml: string) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: (server.address() as AddressInfo).port, method: 'POST', path: '/v1/definitions?activate=false', headers: { ...analyst, 'content-type': 'application/xml', 'x-deploy-comment': comment.toString('latin1') } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
        },
      );
      req.on('error', reject);
      // A Buffer: a string body would be joined to the headers and the whole written as UTF-8 (Node does so for the first chunk).
      req.end(Buffer.from(xml, 'utf8'));
    });
  const variant = (n: number) => fixture('simple.bpmn').replace('name="Đơn giản"', `name="Đơn giản ${n}"`);
  const stored = async (id: number) => (await h.s.db('definitions').where({ id }).first('comment')).comment;

  it('Given a comment in raw UTF-8, when a diagram is deployed, then the version and its history event hold the comment as typed', async () => {
    const res = await deploy(Buffer.from('Nâng lên 4: thêm bước duyệt', 'utf8'), variant(1));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(await stored(res.body.id)).to.equal('Nâng lên 4: thêm bước duyệt');
    const event = await h.s.db('case_events').where({ type: 'definition.deployed' }).orderBy('id', 'desc').first('payload');
    expect(JSON.stringify(event.payload)).to.include('Nâng lên 4: thêm bước duyệt');
  });

  it('Given a comment percent-encoded, then it is stored as before; given bytes that are not UTF-8 (Latin-1 "â"), then 400 naming the header and nothing stored', async () => {
    const encoded = await deploy(Buffer.from(encodeURIComponent('Sửa 50% hạn')), variant(2));
    expect(encoded.status, JSON.stringify(encoded.body)).to.equal(201);
    expect(await stored(encoded.body.id)).to.equal('Sửa 50% hạn');
    const count = Number((await h.s.db('definitions').count('* as n').first())!.n);
    const latin1 = await deploy(Buffer.from('Nâng', 'latin1'), variant(3));
    expect(latin1.status, JSON.stringify(latin1.body)).to.equal(400);
    expect(latin1.body.errors).to.deep.equal([{ path: 'header X-Deploy-Comment', message: 'is not UTF-8 text' }]);
    expect(Number((await h.s.db('definitions').count('* as n').first())!.n)).to.equal(count);
  });
});
