import { expect } from 'chai';
import { freshDb, type TestDb } from './helpers/db.js';
import { Hotline, type Key } from './helpers/scenario.js';
import { fixture } from './helpers/system.js';

type Who = 'operator' | 'agencyA' | 'agencyB' | 'coordinator' | 'reviewer' | 'analyst' | 'auditor' | 'admin' | 'noKey' | 'revokedKey';
const EVERYONE: Who[] = ['operator', 'agencyA', 'agencyB', 'coordinator', 'reviewer', 'analyst', 'auditor', 'admin', 'noKey', 'revokedKey'];

interface Row {
  route: string;
  /** Fresh state for one call: the request to send. */
  prepare: () => Promise<{ path: string; body?: unknown; contentType?: string }>;
  expect: Partial<Record<Who, number>> & { rest: number };
}

describe('Security: every route × every kind of caller gets exactly the expected status', () => {
  let t: TestDb;
  let h: Hotline;
  const keys = {} as Record<Who, Key | null>;
  const ANSWER = { outcome: 'answer', answer: 'Đã xử lý xong phản ánh của công dân.' };

  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    keys.operator = h.keys.operator;
    keys.agencyA = await h.agency('SNNMT');
    keys.agencyB = await h.agency('CONG-AN');
    keys.coordinator = h.keys.coordinator;
    keys.reviewer = h.keys.reviewer;
    keys.analyst = await h.s.as('analyst', 'SNV');
    keys.auditor = h.keys.auditor;
    keys.admin = await h.s.as('admin');
    keys.noKey = null;
    const revoked = await h.s.as('coordinator', 'VP-UBND', 'revoked');
    await h.s.keys.revoke(revoked.id.replace('key:', ''));
    keys.revokedKey = revoked;
  });
  after(() => t.close());

  /** A case of agency A (SNNMT), waiting at its handling task. */
  async function caseOfA() {
    const kase = await h.intake({ title: 'Khai thác cát trái phép', field: 'MOI-TRUONG', citizenPhone: '0909123456', citizenName: 'Trần Văn Bình' });
    return { code: kase.code, taskId: kase.tasks[0].id as string };
  }

  const rows: Row[] = [
    { route: 'GET /', prepare: async () => ({ path: '/' }), expect: { rest: 200 } },
    { route: 'GET /health', prepare: async () => ({ path: '/health' }), expect: { rest: 200 } },
    { route: 'GET /ready', prepare: async () => ({ path: '/ready' }), expect: { rest: 200 } },
    { route: 'GET /metrics', prepare: async () => ({ path: '/metrics' }), expect: { admin: 200, auditor: 200, noKey: 401, revokedKey: 401, rest: 403 } },
    { route: 'GET /openapi.json', prepare: async () => ({ path: '/openapi.json' }), expect: { rest: 200 } },
    { route: 'GET /docs', prepare: async () => ({ path: '/docs' }), expect: { rest: 200 } },
    {
      route: 'POST /v1/definitions',
      prepare: async () => ({ path: '/v1/definitions', body: { xml: fixture('simple.bpmn') } }),
      expect: { analyst: 201, noKey: 401, revokedKey: 401, rest: 403 },
    },
    {
      route: 'POST /v1/definitions/validate',
      prepare: async () => ({ path: '/v1/definitions/validate', body: { xml: fixture('simple.bpmn') } }),
      expect: { analyst: 200, noKey: 401, revokedKey: 401, rest: 403 },
    },
    {
      route: 'POST /v1/definitions/{key}/active',
      prepare: async () => ({ path: '/v1/definitions/complaint-handling/active', body: { version: 1 } }),
      expect: { analyst: 200, noKey: 401, revokedKey: 401, rest: 403 },
    },
    {
      route: 'POST /v1/definitions/{key}/migrate',
      prepare: async () => ({ path: '/v1/definitions/complaint-handling/migrate', body: { toVersion: 1, check: true } }),
      expect: { analyst: 200, noKey: 401, revokedKey: 401, rest: 403 },
    },
    {
      route: 'POST /v1/definitions/{key}/dry-run',
      prepare: async () => ({ path: '/v1/definitions/complaint-handling/dry-run', body: { xml: fixture('../../processes/complaint-handling.bpmn'), last: 1 } }),
      expect: { analyst: 200, noKey: 401, revokedKey: 401, rest: 403 },
    },
    {
      route: 'POST /v1/cases/{code}/migrate',
      prepare: async () => ({ path: `/v1/cases/${(await caseOfA()).code}/migrate`, body: { toVersion: 1 } }),
      expect: { analyst: 200, noKey: 401, revokedKey: 401, rest: 403 },
    },
    { route: 'GET /v1/definitions', prepare: async () => ({ path: '/v1/definitions' }), expect: { analyst: 200, auditor: 200, noKey: 401, revokedKey: 401, rest: 403 } },
    {
      route: 'GET /v1/definitions/{key}/versions/{version}',
      prepare: async () => ({ path: '/v1/definitions/complaint-handling/versions/1.xml' }),
      expect: { analyst: 200, auditor: 200, noKey: 401, revokedKey: 401, rest: 403 },
    },
    {
      route: 'GET /v1/definitions/{key}/versions/{version}/forms',
      prepare: async () => ({ path: '/v1/definitions/complaint-handling/versions/1/forms' }),
      expect: { analyst: 200, auditor: 200, noKey: 401, revokedKey: 401, rest: 403 },
    },
    {
      route: 'GET /v1/definitions/{key}/versions/{version}/forms/{formKey}',
      prepare: async () => ({ path: '/v1/definitions/complaint-handling/versions/1/forms/handle' }),
      expect: { analyst: 200, auditor: 200, noKey: 401, revokedKey: 401, rest: 403 },
    },
    {
      route: 'POST /v1/cases',
      prepare: async () => ({ path: '/v1/cases', body: { variables: { title: 'Phản ánh mới', description: 'Nội dung phản ánh mới.', channel: 'call', field: 'Y-TE' } } }),
      expect: { operator: 201, noKey: 401, revokedKey: 401, rest: 403 },
    },
    {
      route: 'GET /v1/cases/{code}',
      prepare: async () => ({ path: `/v1/cases/${(await caseOfA()).code}` }),
      expect: { agencyB: 404, admin: 200, noKey: 401, revokedKey: 401, rest: 200 },
    },
    {
      route: 'POST /v1/cases/{code}/messages/{name}',
      prepare: async () => {
        const { code, taskId } = await caseOfA();
        await h.complete(taskId, keys.agencyA!, { outcome: 'moreInfo', question: 'Vị trí khai thác cụ thể?' });
        return { path: `/v1/cases/${code}/messages/citizen-info`, body: { citizenInfo: 'Bãi sông ấp 3' } };
      },
      expect: { operator: 200, coordinator: 200, noKey: 401, revokedKey: 401, rest: 403 },
    },
    { route: 'GET /v1/tasks', prepare: async () => ({ path: '/v1/tasks' }), expect: { noKey: 401, revokedKey: 401, rest: 200 } },
    {
      route: 'GET /v1/tasks/{id}',
      prepare: async () => ({ path: `/v1/tasks/${(await caseOfA()).taskId}` }),
      expect: { agencyA: 200, coordinator: 200, auditor: 200, noKey: 401, revokedKey: 401, rest: 404 },
    },
    {
      route: 'POST /v1/tasks/{id}/claim',
      prepare: async () => ({ path: `/v1/tasks/${(await caseOfA()).taskId}/claim` }),
      expect: { agencyA: 200, coordinator: 403, auditor: 403, noKey: 401, revokedKey: 401, rest: 404 },
    },
    {
      route: 'POST /v1/tasks/{id}/unclaim',
      prepare: async () => {
        const { taskId } = await caseOfA();
        expect((await h.s.http.post(`/v1/tasks/${taskId}/claim`).set(keys.agencyA!)).status).to.equal(200);
        return { path: `/v1/tasks/${taskId}/unclaim` };
      },
      expect: { agencyA: 200, coordinator: 200, auditor: 403, noKey: 401, revokedKey: 401, rest: 404 },
    },
    {
      route: 'POST /v1/tasks/{id}/complete',
      prepare: async () => ({ path: `/v1/tasks/${(await caseOfA()).taskId}/complete`, body: ANSWER }),
      expect: { agencyA: 200, coordinator: 403, auditor: 403, noKey: 401, revokedKey: 401, rest: 404 },
    },
    {
      route: 'POST /v1/tasks/{id}/transfer',
      prepare: async () => ({ path: `/v1/tasks/${(await caseOfA()).taskId}/transfer`, body: { toAgency: 'SCT', reason: 'Thuộc thẩm quyền Sở Công Thương' } }),
      expect: { agencyA: 200, coordinator: 403, auditor: 403, noKey: 401, revokedKey: 401, rest: 404 },
    },
    {
      route: 'POST /v1/tasks/{id}/comments',
      prepare: async () => ({ path: `/v1/tasks/${(await caseOfA()).taskId}/comments`, body: { text: 'Đã liên hệ công dân qua điện thoại.' } }),
      expect: { agencyA: 201, coordinator: 403, auditor: 403, noKey: 401, revokedKey: 401, rest: 404 },
    },
    {
      route: 'GET /v1/cases/{code}/history',
      prepare: async () => ({ path: `/v1/cases/${(await caseOfA()).code}/history` }),
      expect: { agencyA: 200, coordinator: 200, reviewer: 200, auditor: 200, admin: 200, noKey: 401, revokedKey: 401, agencyB: 404, rest: 403 },
    },
    {
      route: 'GET /v1/cases/{code}/diagram',
      prepare: async () => ({ path: `/v1/cases/${(await caseOfA()).code}/diagram` }),
      expect: { agencyA: 200, coordinator: 200, reviewer: 200, auditor: 200, admin: 200, noKey: 401, revokedKey: 401, agencyB: 404, rest: 403 },
    },
    {
      route: 'GET /v1/public/cases/{code}',
      prepare: async () => ({ path: `/v1/public/cases/${(await caseOfA()).code}?phone=3456` }),
      expect: { rest: 200 },
    },
    {
      route: 'POST /v1/public/cases/{code}/rating',
      prepare: async () => ({ path: `/v1/public/cases/${(await caseOfA()).code}/rating?phone=3456`, body: { satisfied: true } }),
      expect: { rest: 409 },
    },
    { route: 'GET /v1/public/answers', prepare: async () => ({ path: '/v1/public/answers' }), expect: { rest: 200 } },
    {
      route: 'GET /v1/sms/templates',
      prepare: async () => ({ path: '/v1/sms/templates' }),
      expect: { analyst: 200, auditor: 200, noKey: 401, revokedKey: 401, rest: 403 },
    },
    {
      route: 'POST /v1/sms/inbound',
      prepare: async () => ({ path: '/v1/sms/inbound', body: { from: '0909123456', text: '1' } }),
      expect: { noKey: 401, revokedKey: 401, rest: 403 },
    },
    {
      route: 'POST /v1/sms/status',
      prepare: async () => ({ path: '/v1/sms/status', body: { reference: 'pakn-sms-999999', status: 'delivered' } }),
      expect: { noKey: 401, revokedKey: 401, rest: 403 },
    },
    { route: 'GET /v1/jobs/incidents', prepare: async () => ({ path: '/v1/jobs/incidents' }), expect: { coordinator: 200, admin: 200, auditor: 200, noKey: 401, revokedKey: 401, rest: 403 } },
    // Job 999999 does not exist: who may retry gets 404, everyone else is stopped before.
    { route: 'POST /v1/jobs/{id}/retry', prepare: async () => ({ path: '/v1/jobs/999999/retry' }), expect: { coordinator: 404, admin: 404, noKey: 401, revokedKey: 401, rest: 403 } },
    // Runtime incidents (held timers, tasks for nobody): coordinators and analysts follow them up, auditors read them.
    { route: 'GET /v1/incidents', prepare: async () => ({ path: '/v1/incidents' }), expect: { coordinator: 200, analyst: 200, auditor: 200, noKey: 401, revokedKey: 401, rest: 403 } },
    {
      route: 'GET /v1/cases/{code}/incidents',
      prepare: async () => ({ path: `/v1/cases/${(await caseOfA()).code}/incidents` }),
      expect: { coordinator: 200, analyst: 200, auditor: 200, noKey: 401, revokedKey: 401, rest: 403 },
    },
    // Incident 999999 does not exist: who may resolve gets 404, everyone else is stopped before.
    { route: 'POST /v1/incidents/{id}/resolve', prepare: async () => ({ path: '/v1/incidents/999999/resolve', body: { variables: { agency: 'SNNMT' } } }), expect: { coordinator: 404, analyst: 404, noKey: 401, revokedKey: 401, rest: 403 } },
    {
      route: 'POST /v1/definitions/{key}/impact',
      prepare: async () => ({ path: '/v1/definitions/complaint-handling/impact', body: { xml: fixture('../../processes/complaint-handling.bpmn') } }),
      expect: { analyst: 200, noKey: 401, revokedKey: 401, rest: 403 },
    },
    { route: 'GET /open311/v2/discovery.{format}', prepare: async () => ({ path: '/open311/v2/discovery.json' }), expect: { rest: 200 } },
    { route: 'GET /open311/v2/services.{format}', prepare: async () => ({ path: '/open311/v2/services.json' }), expect: { rest: 200 } },
    { route: 'GET /open311/v2/services/{code}.{format}', prepare: async () => ({ path: '/open311/v2/services/DAT-DAI.json' }), expect: { rest: 200 } },
    // Open311 authenticates by the api_key field, not the header: every caller without one gets 403.
    { route: 'POST /open311/v2/requests.{format}', prepare: async () => ({ path: '/open311/v2/requests.json', body: { service_code: 'DAT-DAI', lat: '10.9', long: '106.8' } }), expect: { rest: 403 } },
    { route: 'GET /open311/v2/requests.{format}', prepare: async () => ({ path: '/open311/v2/requests.json' }), expect: { rest: 200 } },
    { route: 'GET /open311/v2/requests/{id}.{format}', prepare: async () => ({ path: `/open311/v2/requests/${(await caseOfA()).code}.json` }), expect: { rest: 200 } },
    { route: 'GET /open311/v2/tokens/{token}.{format}', prepare: async () => ({ path: `/open311/v2/tokens/${(await caseOfA()).code}.json` }), expect: { rest: 200 } },
    { route: 'GET /v1/reports/weekly', prepare: async () => ({ path: '/v1/reports/weekly' }), expect: { coordinator: 200, reviewer: 200, auditor: 200, noKey: 401, revokedKey: 401, rest: 403 } },
    { route: 'GET /v1/reports/scorecard', prepare: async () => ({ path: '/v1/reports/scorecard' }), expect: { coordinator: 200, reviewer: 200, auditor: 200, noKey: 401, revokedKey: 401, rest: 403 } },
    { route: 'GET /v1/reports/stats', prepare: async () => ({ path: '/v1/reports/stats?groupBy=agency' }), expect: { coordinator: 200, reviewer: 200, auditor: 200, noKey: 401, revokedKey: 401, rest: 403 } },
    { route: 'GET /ui/modeler', prepare: async () => ({ path: '/ui/modeler' }), expect: { rest: 200 } },
    { route: 'GET /ui/forms', prepare: async () => ({ path: '/ui/forms' }), expect: { rest: 200 } },
    { route: 'GET /v1/me', prepare: async () => ({ path: '/v1/me' }), expect: { noKey: 401, revokedKey: 401, rest: 200 } },
    { route: 'GET /ui/dashboard', prepare: async () => ({ path: '/ui/dashboard' }), expect: { rest: 200 } },
    { route: 'GET /ui/catalogue', prepare: async () => ({ path: '/ui/catalogue' }), expect: { rest: 200 } },
    { route: 'GET /ui/cases/{code}', prepare: async () => ({ path: `/ui/cases/${(await caseOfA()).code}` }), expect: { rest: 200 } },
    { route: 'GET /ui/assets/{file}', prepare: async () => ({ path: '/ui/assets/case.js' }), expect: { rest: 200 } },
    { route: 'GET /v1/history/verify', prepare: async () => ({ path: '/v1/history/verify' }), expect: { auditor: 200, noKey: 401, revokedKey: 401, rest: 403 } },
    { route: 'GET /v1/history/events', prepare: async () => ({ path: '/v1/history/events?type=case.started' }), expect: { auditor: 200, noKey: 401, revokedKey: 401, rest: 403 } },
    { route: 'GET /v1/history/checkpoints', prepare: async () => ({ path: '/v1/history/checkpoints' }), expect: { auditor: 200, noKey: 401, revokedKey: 401, rest: 403 } },
    // The matrix's node has no signing key (PAKN_CHECKPOINT_KEY_FILE): an auditor's checkpoint is refused with 409.
    { route: 'POST /v1/history/checkpoints', prepare: async () => ({ path: '/v1/history/checkpoints', body: {} }), expect: { auditor: 409, noKey: 401, revokedKey: 401, rest: 403 } },
    { route: 'GET /v1/history/checkpoints/{id}', prepare: async () => ({ path: '/v1/history/checkpoints/1' }), expect: { auditor: 404, noKey: 401, revokedKey: 401, rest: 403 } },
    { route: 'GET /v1/catalogue/{kind}', prepare: async () => ({ path: '/v1/catalogue/agencies' }), expect: { noKey: 401, revokedKey: 401, rest: 200 } },
    { route: 'GET /v1/catalogue/{kind}/{code}', prepare: async () => ({ path: '/v1/catalogue/agencies/SYT' }), expect: { noKey: 401, revokedKey: 401, rest: 200 } },
    {
      route: 'PUT /v1/catalogue/{kind}/{code}',
      prepare: async () => ({ path: '/v1/catalogue/fields/DAT-DAI', body: { name: 'Đất đai', nameEn: 'Land', defaultAgency: 'STNMT', validFrom: '2018-02-07', validTo: null } }),
      expect: { analyst: 200, admin: 200, noKey: 401, revokedKey: 401, rest: 403 },
    },
    { route: 'GET /v1/catalogue/calendar', prepare: async () => ({ path: '/v1/catalogue/calendar?year=2026' }), expect: { noKey: 401, revokedKey: 401, rest: 200 } },
    {
      route: 'PUT /v1/catalogue/calendar/{year}',
      // A new year per call, so every permitted caller creates one (201).
      prepare: (() => {
        let year = 2040;
        return async () => {
          year += 1;
          return { path: `/v1/catalogue/calendar/${year}`, body: { holidays: [{ date: `${year}-01-01`, name: 'Tết Dương lịch' }] } };
        };
      })(),
      expect: { analyst: 201, admin: 201, noKey: 401, revokedKey: 401, rest: 403 },
    },
    {
      route: 'POST /v1/keys',
      prepare: async () => ({ path: '/v1/keys', body: { name: 'Sở Y tế', roles: ['agency'], agency: 'SYT' } }),
      expect: { admin: 201, noKey: 401, revokedKey: 401, rest: 403 },
    },
    { route: 'GET /v1/keys', prepare: async () => ({ path: '/v1/keys' }), expect: { admin: 200, noKey: 401, revokedKey: 401, rest: 403 } },
    {
      route: 'DELETE /v1/keys/{id}',
      prepare: async () => ({ path: `/v1/keys/${(await h.s.as('operator', null, 'to revoke')).id.replace('key:', '')}` }),
      expect: { admin: 204, noKey: 401, revokedKey: 401, rest: 403 },
    },
    {
      route: 'POST /v1/subscriptions',
      prepare: async () => ({ path: '/v1/subscriptions', body: { url: 'https://dms.invalid/hook', events: ['case.transferred'] } }),
      expect: { agencyA: 201, agencyB: 201, admin: 201, noKey: 401, revokedKey: 401, rest: 403 },
    },
    {
      route: 'GET /v1/subscriptions/{id}/deliveries',
      prepare: async () => ({ path: `/v1/subscriptions/${(await h.s.http.post('/v1/subscriptions').set(keys.agencyA!).send({ url: 'https://dms.invalid/hook', events: ['case.transferred'] })).body.id}/deliveries` }),
      expect: { agencyA: 200, admin: 200, agencyB: 404, noKey: 401, revokedKey: 401, rest: 403 },
    },
    {
      route: 'DELETE /v1/subscriptions/{id}',
      prepare: async () => ({ path: `/v1/subscriptions/${(await h.s.http.post('/v1/subscriptions').set(keys.agencyA!).send({ url: 'https://dms.invalid/hook', events: ['case.transferred'] })).body.id}` }),
      expect: { agencyA: 204, admin: 204, agencyB: 404, noKey: 401, revokedKey: 401, rest: 403 },
    },
    { route: 'GET /v1/events', prepare: async () => ({ path: '/v1/events' }), expect: { noKey: 401, revokedKey: 401, rest: 200 } },
    {
      route: 'GET /v1/cases',
      prepare: async () => ({ path: `/v1/cases?q=${encodeURIComponent('khai thác cát')}` }),
      expect: { analyst: 403, admin: 403, noKey: 401, revokedKey: 401, rest: 200 },
    },
  ];

  it('Given the matrix, then it covers every route the API registers', async () => {
    const doc = (await h.s.http.get('/openapi.json')).body;
    const documented = Object.entries<any>(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(rows.map((r) => r.route).sort()).to.deep.equal(documented.sort());
  });

  for (const row of rows) {
    it(`${row.route}`, async function () {
      this.timeout(60_000);
      const got: Record<string, number> = {};
      const want: Record<string, number> = {};
      for (const who of EVERYONE) {
        const { path, body } = await row.prepare();
        const [method] = row.route.split(' ');
        let req = (h.s.http as any)[method.toLowerCase()](path);
        if (keys[who]) req = req.set('Authorization', keys[who]!.Authorization);
        const res = await (body !== undefined ? req.send(body) : req);
        got[who] = res.status;
        want[who] = row.expect[who] ?? row.expect.rest;
        if (res.status >= 400 && !row.route.includes('/open311/')) expect(res.type, `${row.route} as ${who}`).to.equal('application/problem+json');
      }
      expect(got).to.deep.equal(want);
    });
  }

  it('Given agency B, its inbox never lists agency A’s tasks and case data of A never leaks', async () => {
    const { code } = await caseOfA();
    const inbox = await h.s.http.get('/v1/tasks?limit=200').set(keys.agencyB!);
    expect(inbox.body.items.map((i: any) => i.caseCode)).not.to.include(code);
    expect(inbox.body.items.every((i: any) => i.candidateGroups.includes('CONG-AN'))).to.equal(true);
  });

  it('Given an auditor without pii, the citizen’s name and phone are masked; an agency handling the case sees them', async () => {
    const { code, taskId } = await caseOfA();
    const audited = await h.s.http.get(`/v1/cases/${code}`).set(keys.auditor!);
    expect(audited.body.variables.citizenPhone).to.equal('*******456');
    expect(audited.body.variables.citizenName).to.equal('T***');
    const task = await h.s.http.get(`/v1/tasks/${taskId}`).set(keys.agencyA!);
    expect(task.body.case.variables.citizenPhone).to.equal('0909123456');
    const analyst = await h.s.http.get(`/v1/cases/${code}`).set(keys.analyst!);
    expect(analyst.body.variables.citizenPhone).to.equal('*******456');
  });
});
