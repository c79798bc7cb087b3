import { rolesFor } from '../../engine/hotline/policy.js';
import type { AppDeps } from '../deps.js';
import type { RouteSpec } from '../http.js';
import { CreatedKeySchema, CreateKeyBody, KeySchema, PathParam, pathParams } from '../schemas.js';

function keyView(k: any) {
  return {
    id: k.id,
    name: k.name,
    roles: k.roles,
    agency: k.agency,
    prefix: k.prefix,
    createdAt: new Date(k.created_at).toISOString(),
    revokedAt: k.revoked_at ? new Date(k.revoked_at).toISOString() : null,
  };
}

export function keyRoutes(deps: AppDeps): RouteSpec[] {
  return [
    {
      method: 'post',
      path: '/v1/keys',
      summary: 'Create an API key (shown once)',
      tags: ['Keys'],
      access: rolesFor('manageKeys'),
      body: CreateKeyBody,
      responses: { 201: { description: 'The key; its secret is in `key` and is never shown again', schema: CreatedKeySchema } },
      handler: async (ctx) => {
        // Through the API the agency must be in force today (a retired code is answered with its successor).
        if (ctx.state.body.agency) deps.catalogue.checkCodes({ agency: ctx.state.body.agency }, deps.clock.now());
        const { key, row } = await deps.keys.create({ ...ctx.state.body, createdBy: ctx.state.principal!.id });
        ctx.status = 201;
        ctx.body = { ...keyView(row), key };
      },
    },
    {
      method: 'get',
      path: '/v1/keys',
      summary: 'List API keys (never their secrets)',
      tags: ['Keys'],
      access: rolesFor('manageKeys'),
      responses: { 200: { description: 'Keys, oldest first', schema: { type: 'array', items: KeySchema } } },
      handler: async (ctx) => {
        ctx.body = (await deps.keys.list()).map(keyView);
      },
    },
    {
      method: 'delete',
      path: '/v1/keys/:id',
      params: pathParams({ id: PathParam.uuid }),
      summary: 'Revoke an API key, effective at once',
      description: 'Revoking a revoked key changes nothing (204). 409 for the caller’s own key (another admin must revoke it) and for the last live admin key (create another first).',
      tags: ['Keys'],
      access: rolesFor('manageKeys'),
      responses: { 204: { description: 'Revoked' }, 409: { description: 'Your own key, or the last live admin key: key management must stay reachable' } },
      handler: async (ctx) => {
        await deps.keys.revoke(ctx.params.id, ctx.state.principal);
        ctx.status = 204;
      },
    },
  ];
}
