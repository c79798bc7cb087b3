import { rolesFor } from '../../engine/hotline/policy.js';
import type { AppDeps } from '../deps.js';
import type { RouteSpec } from '../http.js';
import { CreateKeyBody } from '../schemas.js';

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
      responses: { 201: { description: 'The key; its secret is in `key` and is never shown again', schema: { type: 'object' } } },
      handler: async (ctx) => {
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
      responses: { 200: { description: 'Keys', schema: { type: 'array', items: { type: 'object' } } } },
      handler: async (ctx) => {
        ctx.body = (await deps.keys.list()).map(keyView);
      },
    },
    {
      method: 'delete',
      path: '/v1/keys/:id',
      summary: 'Revoke an API key, effective at once',
      tags: ['Keys'],
      access: rolesFor('manageKeys'),
      responses: { 204: { description: 'Revoked' } },
      handler: async (ctx) => {
        await deps.keys.revoke(ctx.params.id);
        ctx.status = 204;
      },
    },
  ];
}
