import { ping } from '../db/connect.js';
import Koa from 'koa';
import { METHODS } from 'node:http';
import { Router } from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { InputError } from '../engine/errors.js';
import type { AppDeps } from './deps.js';
import { errorMiddleware, mountRoutes, type RouteSpec, type State } from './http.js';
import { buildOpenApi, renderDocsPage } from './openapi.js';
import { caseRoutes } from './routes/cases.js';
import { catalogueRoutes } from './routes/catalogue.js';
import { historyRoutes } from './routes/history.js';
import { uiRoutes } from './routes/ui.js';
import { publicRoutes } from './routes/public.js';
import { smsRoutes } from './routes/sms.js';
import { open311Errors, open311Routes } from './routes/open311.js';
import { responseCheck } from './response-check.js';
import { reportRoutes } from './routes/reports.js';
import { definitionRoutes } from './routes/definitions.js';
import { keyRoutes } from './routes/keys.js';
import { systemRoutes } from './routes/system.js';
import { taskRoutes } from './routes/tasks.js';
import { subscriptionRoutes } from './routes/subscriptions.js';
import { eventRoutes } from './routes/events.js';
import { incidentRoutes } from './routes/incidents.js';
import { jobRoutes } from './routes/jobs.js';
import { formRoutes } from './routes/forms.js';
import { VERSION } from './version.js';


export function routeSpecs(deps: AppDeps): RouteSpec[] {
  let doc: Record<string, unknown> | undefined;
  let page: string | undefined;
  const specs: RouteSpec[] = [];
  const openApi = () => (doc ??= buildOpenApi(specs, VERSION));
  specs.push(
    ...systemRoutes(deps, openApi, () => (page ??= renderDocsPage(openApi()))),
    ...definitionRoutes(deps),
    ...formRoutes(deps),
    ...caseRoutes(deps),
    ...taskRoutes(deps),
    ...historyRoutes(deps),
    ...catalogueRoutes(deps),
    ...keyRoutes(deps),
    ...uiRoutes(deps),
    ...publicRoutes(deps),
    ...smsRoutes(deps),
    ...open311Routes(deps),
    ...reportRoutes(deps),
    ...subscriptionRoutes(deps),
    ...eventRoutes(deps),
    ...incidentRoutes(deps),
    ...jobRoutes(deps),
  );
  return specs;
}

export interface AppOptions {
  /** Tests: check every answer against the served OpenAPI document (api/response-check.ts); a mismatch becomes a 500 naming the route and status. */
  checkResponses?: boolean;
}

export function createApp(deps: AppDeps, options: AppOptions = {}): Koa<State> {
  const app = new Koa<State>();
  // What reaches Koa itself is a body stream that failed after its headers were sent (everything else is answered by
  // errorMiddleware): logged once, as the other lines are, instead of Koa's default stack trace on stderr.
  app.on('error', (err: unknown, ctx?: Koa.Context) => deps.log.error({ err, requestId: ctx?.state?.requestId, method: ctx?.method, path: ctx?.path }, 'response failed after its headers were sent'));
  // Only behind a proxy that sets X-Forwarded-For; otherwise anyone could pick their own IP for the per-IP limits.
  app.proxy = deps.trustProxy ?? false;
  // Every method Node parses is "known", so one a path does not take answers 405 with Allow (not 501).
  const router = new Router<State>({ methods: METHODS });
  const specs = routeSpecs(deps);
  // The catalogue and calendar another node changed are in force from the next API request: the version row comes with the
  // API key, or is read. Not for the probes (/health answers while the database is away) nor the pages.
  const reference = async (known: number | undefined, path: string) => {
    if (path.startsWith('/v1/') || path.startsWith('/open311/')) await deps.catalogue.ensureCurrent(known);
  };
  mountRoutes(router, specs, deps.authenticators, { max: deps.writeRateLimitPerMinute, windowMs: 60_000, db: deps.db, clock: deps.clock }, reference);
  if (options.checkResponses) {
    let doc: Record<string, unknown> | undefined;
    // Loud on purpose: the test that met it fails on the 500, and the line says what to document where.
    app.use(responseCheck(() => (doc ??= buildOpenApi(specs, VERSION)), (m) => console.error(`Undocumented response: ${m.operation} answered ${m.status} ${m.contentType}: ${m.reason}`)));
  }
  app.use(errorMiddleware(deps.log, deps.metrics, [open311Errors], () => ping(deps.db)));
  app.use(
    bodyParser({
      enableTypes: ['json', 'xml', 'form'],
      extendTypes: { xml: ['application/xml', 'text/xml', 'application/bpmn+xml'] },
      jsonLimit: '1mb',
      xmlLimit: '5mb',
      encoding: 'utf-8',
      onError: (err: any, ctx: Koa.Context) => {
        if (err?.status === 413) throw err;
        throw new InputError(`The body is not valid ${ctx.is('json') ? 'JSON' : ctx.is('urlencoded') ? 'form data' : 'XML text'}: ${err?.message ?? err}`);
      },
    } as any),
  );
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
