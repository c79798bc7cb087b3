import type Koa from 'koa';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { openApiPath } from './openapi.js';

const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

/** A response the served document does not describe: the route, the status, and what differs. */
export interface UndocumentedResponse {
  operation: string;
  status: number;
  contentType: string;
  reason: string;
}

/** Every mismatch any checked app met in this process (a test can assert there were none). */
export const undocumentedResponses: UndocumentedResponse[] = [];

function pointer(...segments: string[]): string {
  return segments.map((s) => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');
}

/**
 * Checks every answer against the OpenAPI document the app serves: the
 * operation exists, the status and the content type are declared, and a JSON
 * body validates against the declared schema. Enabled in tests (createApp's
 * checkResponses), so a route that answers something its `responses:` block
 * does not say fails the test that met it, naming the route and the status.
 * A mismatch turns the answer into a 500 titled "Undocumented response".
 */
export function responseCheck(openApi: () => Record<string, any>, onMismatch: (m: UndocumentedResponse) => void = () => {}): Koa.Middleware {
  let ajv: Ajv2020 | undefined;
  const validators = new Map<string, ValidateFunction>();
  const validator = (ref: string) => {
    if (!ajv) {
      ajv = new Ajv2020({ strict: false, allErrors: false, logger: false });
      addFormats(ajv);
      ajv.addSchema(openApi(), 'openapi.json');
    }
    let v = validators.get(ref);
    if (!v) validators.set(ref, (v = ajv.compile({ $ref: `openapi.json#/${ref}` })));
    return v;
  };

  return async (ctx, next) => {
    await next();
    const route: string | undefined = (ctx as any)._matchedRoute;
    // Unmatched paths (404) and methods the router answers itself (OPTIONS, HEAD, 405) belong to no operation.
    if (!route || ctx.method === 'HEAD' || ctx.method === 'OPTIONS' || ctx.status === 405) return;
    const path = openApiPath(String(route));
    const method = ctx.method.toLowerCase();
    const operation = `${ctx.method} ${path}`;
    const status = ctx.status;
    const contentType = ctx.response.type || '';
    const fail = (reason: string) => {
      const m = { operation, status, contentType, reason };
      undocumentedResponses.push(m);
      onMismatch(m);
      const body: any = ctx.body;
      if (body && typeof body.destroy === 'function') body.destroy();
      ctx.status = 500;
      ctx.type = 'application/problem+json';
      ctx.body = { type: '/problems/undocumented-response', title: 'Undocumented response', status: 500, detail: `${operation} answered ${status} ${contentType || '(no body)'}, which its responses block does not document: ${reason}` };
    };
    const op = openApi().paths?.[path]?.[method];
    if (!op) return fail('the operation is not in the document');
    const declared = op.responses?.[String(status)];
    if (!declared) return fail(`status ${status} is not among ${Object.keys(op.responses ?? {}).join(', ')}`);
    const hasBody = ctx.body !== null && ctx.body !== undefined && status !== 204 && status !== 304;
    if (!hasBody) {
      if (declared.content) return fail('the document promises a body, the answer has none');
      return;
    }
    const types = Object.keys(declared.content ?? {});
    if (!types.includes(contentType)) return fail(`content type ${contentType || '(none)'} is not among ${types.join(', ') || '(no body)'}`);
    if (!/json$/.test(contentType) || typeof (ctx.body as any).pipe === 'function' || Buffer.isBuffer(ctx.body)) return;
    let data: unknown = ctx.body;
    if (typeof data === 'string') {
      try {
        data = JSON.parse(data);
      } catch {
        return fail('the body is not JSON');
      }
    }
    const validate = validator(pointer('paths', path, method, 'responses', String(status), 'content', contentType, 'schema'));
    if (!validate(data)) {
      const e = validate.errors?.[0];
      return fail(`the body does not match the schema: ${e?.instancePath || '/'} ${e?.message ?? ''} (${JSON.stringify(e?.params ?? {})})`);
    }
  };
}
