import { publishedCases } from '../../db/cases.js';
import { NotFoundError } from '../../engine/errors.js';
import { caseForCitizen, citizenView, publishedAnswerView } from '../../engine/hotline/public-status.js';
import { rateOnWeb } from '../../engine/hotline/rating.js';
import type { AppDeps } from '../deps.js';
import type { RouteSpec } from '../http.js';
import { checkGuessDelay, forgetGuesses, limit, recordFailedGuess } from '../throttle.js';
import { CitizenCaseSchema, PublishedAnswerSchema, RatingRecordedSchema, PathParam, pathParams } from '../schemas.js';

export function publicRoutes(deps: AppDeps): RouteSpec[] {
  // Per client address (a fixed budget) and per case code (growing delays after wrong phone digits),
  // counted in the database so every node shares them (api/throttle.ts).
  const perIp = (ctx: any) => limit(deps.db, deps.clock, `public-ip:${ctx.ip}`, 30, 60_000, 'Quá nhiều lượt tra cứu; vui lòng thử lại sau ít phút. Too many lookups; retry later.');
  const findForCitizen = async (ctx: any) => {
    const code = String(ctx.params.code).toUpperCase();
    const guesses = `public-guesses:${code}`;
    await checkGuessDelay(deps.db, deps.clock, guesses, 'Đã nhập sai nhiều lần; vui lòng chờ giây lát rồi thử lại. Too many wrong attempts for this case; retry after Retry-After seconds.');
    const kase = await caseForCitizen(deps.db, code, String(ctx.state.query.phone));
    if (!kase) {
      await recordFailedGuess(deps.db, deps.clock, guesses);
      throw new NotFoundError('Không tìm thấy hồ sơ với mã và số điện thoại này. No case matches this code and phone.');
    }
    await forgetGuesses(deps.db, guesses);
    return kase;
  };
  const names = { field: (c: string) => deps.catalogue.get('fields', c)?.name, agency: (c: string) => deps.catalogue.get('agencies', c)?.name };
  const phoneQuery = { type: 'object', additionalProperties: false, required: ['phone'], properties: { phone: { type: 'string', pattern: '^[0-9]{4}$', description: 'last 4 digits of the phone given at intake' } } };

  return [
    {
      method: 'post',
      path: '/v1/public/cases/:code/rating',
      params: pathParams({ code: PathParam.caseCode }),
      summary: 'The citizen rates the answer (web or app): satisfied or not',
      description: 'Same check as the status lookup (code + last 4 phone digits). Dissatisfied reopens the case once to the coordinator. 409 when the case is not waiting for a rating.',
      tags: ['Public'],
      access: 'public',
      query: phoneQuery,
      body: { type: 'object', additionalProperties: false, required: ['satisfied'], properties: { satisfied: { type: 'boolean' }, comment: { type: 'string', maxLength: 1000 } } },
      responses: {
        200: { description: 'Rating recorded', schema: RatingRecordedSchema },
        404: { description: 'No case matches this code and phone' },
        409: { description: 'The case does not wait for a rating' },
        429: { description: 'Too many lookups from this IP or of this case: retry after Retry-After seconds' },
      },
      handler: async (ctx) => {
        await perIp(ctx);
        const kase = await findForCitizen(ctx);
        await rateOnWeb(deps.runtime, { code: kase.code, satisfied: ctx.state.body.satisfied, comment: ctx.state.body.comment, requestId: ctx.state.requestId });
        ctx.body = { code: kase.code, recorded: true };
      },
    },
    {
      method: 'get',
      path: '/v1/public/answers',
      summary: 'Published answers: closed cases marked for publication, nothing personal, searchable by field and unit',
      tags: ['Public'],
      access: 'public',
      query: {
        type: 'object',
        additionalProperties: false,
        properties: { field: { type: 'string', maxLength: 64 }, unit: { type: 'string', maxLength: 64 }, q: { type: 'string', maxLength: 200 }, limit: { type: 'integer', minimum: 1, maximum: 100 } },
      },
      responses: {
        200: { description: 'Answers, newest first', schema: { type: 'array', items: PublishedAnswerSchema } },
        429: { description: 'Too many lookups from this IP: retry after Retry-After seconds' },
      },
      handler: async (ctx) => {
        await perIp(ctx);
        const q = ctx.state.query ?? {};
        const rows = await publishedCases(deps.db, { field: q.field, unit: q.unit, text: q.q, limit: q.limit ?? 20 });
        ctx.body = rows.map((r) => publishedAnswerView(r, names));
      },
    },
    {
      method: 'get',
      path: '/v1/public/cases/:code',
      params: pathParams({ code: PathParam.caseCode }),
      summary: 'Citizen status lookup by case code and the last 4 digits of the phone',
      description:
        'Status, handling agency, due date, and the answer once it is published. Nothing personal. A wrong phone and an unknown code answer the same 404. Rate limited per IP (30/min) and per code (20/h).',
      tags: ['Public'],
      access: 'public',
      query: phoneQuery,
      responses: {
        200: { description: 'The case as a citizen may see it', schema: CitizenCaseSchema },
        404: { description: 'No case matches this code and phone (the same answer for both)' },
        429: { description: 'Too many lookups from this IP or of this case: retry after Retry-After seconds' },
      },
      handler: async (ctx) => {
        await perIp(ctx);
        const kase = await findForCitizen(ctx);
        const view = await citizenView(deps.db, kase, await deps.definitions.context(kase.definition_id), names.agency);
        ctx.set('Cache-Control', 'no-store');
        ctx.body = view;
      },
    },
  ];
}
