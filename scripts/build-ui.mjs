// Bundles the modeler page's editor (bpmn-js with the properties panel, the
// Camunda 7 moddle and behaviours, FEEL lint) into api/ui/dist/: these
// packages ship as ESM for bundlers, without a prebuilt browser copy.
// Run by `npm install` (prepare), `npm run build` and `npm start`; the
// output is build output, ignored by git like dist/.
//
//   node scripts/build-ui.mjs
import { build } from 'esbuild';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const UI_DIST = join(ROOT, 'api', 'ui', 'dist');

/**
 * Writes api/ui/dist/modeler-bundle.js and modeler-bundle.css. Each file is written aside and
 * renamed into place: a server (or a test) reading it meanwhile sees the old or the new one, whole.
 */
export async function buildUi() {
  const result = await build({
    entryPoints: { 'modeler-bundle': join(ROOT, 'api', 'ui', 'modeler.panel.js') },
    outdir: UI_DIST,
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2020'],
    // The panel's own stylesheet references no fonts or images; anything that does is inlined.
    loader: { '.svg': 'dataurl', '.woff': 'dataurl', '.woff2': 'dataurl' },
    legalComments: 'eof',
    logLevel: 'warning',
    write: false,
  });
  mkdirSync(UI_DIST, { recursive: true });
  for (const file of result.outputFiles) {
    const aside = join(UI_DIST, `.${basename(file.path)}.${process.pid}`);
    writeFileSync(aside, file.contents);
    renameSync(aside, file.path);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildUi();
}
