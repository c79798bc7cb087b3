import { rolesFor } from '../../engine/hotline/policy.js';
import { CATALOGUE_KINDS, type CatalogueKind } from '../../engine/hotline/catalogue.js';
import { vietnamDate } from '../../engine/vietnam-time.js';
import { NotFoundError } from '../../engine/errors.js';
import type { AppDeps } from '../deps.js';
import type { RouteSpec } from '../http.js';
import { CatalogueEntrySchema } from '../schemas.js';

export function catalogueRoutes(deps: AppDeps): RouteSpec[] {
  return [
    {
      method: 'get',
      path: '/v1/catalogue/:kind',
      summary: 'Catalogue entries (agencies, units, fields, procedures) with validity dates',
      description: 'With ?on=YYYY-MM-DD only the entries in force that day; ?on=today for today in Asia/Ho_Chi_Minh.',
      tags: ['Catalogue'],
      access: rolesFor('readCatalogue'),
      query: { type: 'object', additionalProperties: false, properties: { on: { type: 'string', pattern: '^(today|\\d{4}-\\d{2}-\\d{2})$' } } },
      responses: { 200: { description: 'Entries, by code', schema: { type: 'array', items: CatalogueEntrySchema } } },
      handler: (ctx) => {
        const kind = ctx.params.kind as CatalogueKind;
        if (!(CATALOGUE_KINDS as readonly string[]).includes(kind)) throw new NotFoundError(`No catalogue "${kind}"; there are ${CATALOGUE_KINDS.join(', ')}.`);
        const on = ctx.state.query?.on === 'today' ? vietnamDate(deps.clock.now()) : ctx.state.query?.on;
        ctx.body = deps.catalogue.list(kind, on).sort((a, b) => a.code.localeCompare(b.code));
      },
    },
  ];
}
