import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError } from '../../engine/errors.js';
import type { AppDeps } from '../deps.js';
import type { RouteSpec } from '../http.js';
import { PACKAGE_ROOT } from '../version.js';

const UI_DIR = join(PACKAGE_ROOT, 'api', 'ui');
const BPMN_JS = join(PACKAGE_ROOT, 'node_modules', 'bpmn-js', 'dist');
const CHART_JS = join(PACKAGE_ROOT, 'node_modules', 'chart.js', 'dist');
const DMN_JS = join(PACKAGE_ROOT, 'node_modules', 'dmn-js', 'dist');

/** The only files served under /ui/assets: our page scripts and the prebuilt bpmn-js, dmn-js and Chart.js from npm. */
const ASSETS: Record<string, { file: string; type: string }> = {
  'common.js': { file: join(UI_DIR, 'common.js'), type: 'application/javascript; charset=utf-8' },
  'case.js': { file: join(UI_DIR, 'case.js'), type: 'application/javascript; charset=utf-8' },
  'ui.css': { file: join(UI_DIR, 'ui.css'), type: 'text/css; charset=utf-8' },
  'index.js': { file: join(UI_DIR, 'index.js'), type: 'application/javascript; charset=utf-8' },
  'index.css': { file: join(UI_DIR, 'index.css'), type: 'text/css; charset=utf-8' },
  'dashboard.js': { file: join(UI_DIR, 'dashboard.js'), type: 'application/javascript; charset=utf-8' },
  'dashboard.css': { file: join(UI_DIR, 'dashboard.css'), type: 'text/css; charset=utf-8' },
  'catalogue.js': { file: join(UI_DIR, 'catalogue.js'), type: 'application/javascript; charset=utf-8' },
  'catalogue.css': { file: join(UI_DIR, 'catalogue.css'), type: 'text/css; charset=utf-8' },
  'chart.umd.min.js': { file: join(CHART_JS, 'chart.umd.min.js'), type: 'application/javascript; charset=utf-8' },
  'modeler.js': { file: join(UI_DIR, 'modeler.js'), type: 'application/javascript; charset=utf-8' },
  'forms.js': { file: join(UI_DIR, 'forms.js'), type: 'application/javascript; charset=utf-8' },
  // bpmn-js with the properties panel, built from api/ui/modeler.panel.js by scripts/build-ui.mjs (npm install / build / start).
  'modeler-bundle.js': { file: join(UI_DIR, 'dist', 'modeler-bundle.js'), type: 'application/javascript; charset=utf-8' },
  'modeler-bundle.css': { file: join(UI_DIR, 'dist', 'modeler-bundle.css'), type: 'text/css; charset=utf-8' },
  'bpmn-navigated-viewer.js': { file: join(BPMN_JS, 'bpmn-navigated-viewer.production.min.js'), type: 'application/javascript; charset=utf-8' },
  'bpmn-js.css': { file: join(BPMN_JS, 'assets', 'bpmn-js.css'), type: 'text/css; charset=utf-8' },
  'diagram-js.css': { file: join(BPMN_JS, 'assets', 'diagram-js.css'), type: 'text/css; charset=utf-8' },
  'bpmn-embedded.css': { file: join(BPMN_JS, 'assets', 'bpmn-font', 'css', 'bpmn-embedded.css'), type: 'text/css; charset=utf-8' },
  // dmn-js, loaded by the modeler page only when the opened key is a decision file.
  'dmn-modeler.js': { file: join(DMN_JS, 'dmn-modeler.production.min.js'), type: 'application/javascript; charset=utf-8' },
  'dmn-viewer.js': { file: join(DMN_JS, 'dmn-viewer.production.min.js'), type: 'application/javascript; charset=utf-8' },
  'dmn-js-shared.css': { file: join(DMN_JS, 'assets', 'dmn-js-shared.css'), type: 'text/css; charset=utf-8' },
  'dmn-js-drd.css': { file: join(DMN_JS, 'assets', 'dmn-js-drd.css'), type: 'text/css; charset=utf-8' },
  'dmn-js-decision-table.css': { file: join(DMN_JS, 'assets', 'dmn-js-decision-table.css'), type: 'text/css; charset=utf-8' },
  'dmn-js-decision-table-controls.css': { file: join(DMN_JS, 'assets', 'dmn-js-decision-table-controls.css'), type: 'text/css; charset=utf-8' },
  'dmn-js-literal-expression.css': { file: join(DMN_JS, 'assets', 'dmn-js-literal-expression.css'), type: 'text/css; charset=utf-8' },
  'dmn-embedded.css': { file: join(DMN_JS, 'assets', 'dmn-font', 'css', 'dmn-embedded.css'), type: 'text/css; charset=utf-8' },
};

// Pages load only our own scripts; bpmn-js needs inline styles and data: fonts.
const PAGE_CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:";

/** An HTML page: it holds no data itself and reads the API with the caller's key. */
function page(path: string, file: string, summary: string, description: string): RouteSpec {
  return {
    method: 'get',
    path,
    summary,
    description,
    tags: ['UI'],
    access: 'public',
    responses: { 200: { description: 'HTML page', contentType: 'text/html', schema: { type: 'string' } } },
    handler: (ctx) => {
      ctx.type = 'text/html; charset=utf-8';
      ctx.set('Content-Security-Policy', PAGE_CSP);
      ctx.body = createReadStream(join(UI_DIR, file));
    },
  };
}

export function uiRoutes(_deps: AppDeps): RouteSpec[] {
  return [
    page('/', 'index.html', 'Front page (Vietnamese): case lookup, the dashboard, the modeler, the API reference', 'A citizen checks a case with its code and phone (the public lookup); staff open a case page with their key.'),
    page('/ui/cases/:code', 'case.html', 'Case page: the diagram with the path the case took, and its timeline', 'Reads the case through the API with the caller’s key.'),
    page(
      '/ui/modeler',
      'modeler.html',
      'Analysts’ modeler: open a deployed version of a diagram or decision table, edit, validate (problems on the elements), dry-run, deploy, switch the active version',
      'On bpmn-js and dmn-js; read-only for keys without the analyst role. ?process=KEY picks the diagram or decision file (default complaint-handling).',
    ),
    page(
      '/ui/forms',
      'forms.html',
      'Analysts’ form editor: open a form of a deployed version, edit its JSON Schema (errors in Vietnamese), preview its fields, deploy it as a new version with the diagram',
      'Reads GET /v1/definitions/{key}/versions/{version}/forms and deploys through POST /v1/definitions with `forms`; read-only for keys without the analyst role. ?process=KEY&version=N&form=FORMKEY pick what opens.',
    ),
    page(
      '/ui/dashboard',
      'dashboard.html',
      'Saturday-review dashboard: the weekly report with charts, for a projector and for print',
      'Reads GET /v1/reports/weekly and /v1/reports/stats with the caller’s key (coordinator, reviewer or auditor). ?week=YYYY-Www picks the week.',
    ),
    page(
      '/ui/catalogue',
      'catalogue.html',
      'Analysts’ catalogue page: list, edit and add agencies, administrative units, fields and procedures, and edit a year’s holidays and make-up working days',
      'Reads and writes GET/PUT /v1/catalogue/{kind}/{code} (agencies, units, fields, procedures) and /v1/catalogue/calendar with the caller’s key (writes: analyst or admin); warns from 1 October when next year has no holidays. ?kind=units picks the catalogue shown, ?year=YYYY the year.',
    ),
    {
      method: 'get',
      path: '/ui/assets/:file',
      summary: 'Static assets of the pages (bpmn-js viewer, scripts, styles)',
      tags: ['UI'],
      access: 'public',
      responses: { 200: { description: 'The file: a script or a style sheet', content: { 'application/javascript': { type: 'string' }, 'text/css': { type: 'string' } } } },
      handler: (ctx) => {
        const asset = Object.hasOwn(ASSETS, ctx.params.file) ? ASSETS[ctx.params.file] : undefined;
        if (!asset || !existsSync(asset.file)) throw new NotFoundError(`No asset ${ctx.params.file}.`);
        ctx.type = asset.type;
        ctx.set('Cache-Control', 'public, max-age=3600');
        ctx.body = createReadStream(asset.file);
      },
    },
  ];
}
