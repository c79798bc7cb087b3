/**
 * Render a BPMN diagram as pictures for the documentation: the SVG that bpmn-js
 * exports (its viewer, run in headless Chromium) and a PNG of that SVG.
 *
 *   npx tsx docs/tools/render-diagram.ts processes/complaint-handling.bpmn docs/images/complaint-handling
 *     → docs/images/complaint-handling.svg and docs/images/complaint-handling.png
 *
 * Options:
 *   --width N      width of the PNG in pixels (default: the diagram at 100 %, where
 *                  its 11 px labels are legible)
 *   --relayout     lay the process out with bpmn-auto-layout even when the file has a layout
 *   --save-bpmn F  also write the diagram with the layout that was rendered to F
 *                  (to open in Camunda Modeler, tidy up, and save over the original)
 *
 * The picture shows the file's own layout (its BPMN DI, as a modeler saves it).
 * A diagram written by hand or by a generator may lack shapes or connections,
 * which would be drawn as boxes without arrows; such a diagram is laid out in
 * memory by bpmn-auto-layout instead, and the tool says so on stderr. The .bpmn
 * file is never modified. The browser is the tests' (launchBrowser: the
 * Chromium of the devDependency @sparticuz/chromium, or PAKN_CHROMIUM's);
 * nothing is fetched from the network. Exit codes: 0 written, 1 failure, 2 wrong usage.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { BpmnModdle } from 'bpmn-moddle';
import { launchBrowser } from '../../test/helpers/browser.js';

const VIEWER = createRequire(import.meta.url).resolve('bpmn-js/dist/bpmn-navigated-viewer.production.min.js');
/** White space around the diagram in the PNG, in pixels at 100 %. */
const MARGIN = 30;
const USAGE = 'usage: npx tsx docs/tools/render-diagram.ts IN.bpmn OUT_BASE [--width PIXELS] [--relayout] [--save-bpmn FILE]';

/** Ids of the process's elements (sub-processes included) that the file's layout does not draw. */
function undrawn(definitions: any): string[] {
  const drawn = new Set((definitions.diagrams ?? []).flatMap((d: any) => d.plane?.planeElement ?? []).map((di: any) => di.bpmnElement?.id));
  const missing: string[] = [];
  const visit = (container: any) => {
    for (const el of container.flowElements ?? []) {
      if (!drawn.has(el.id)) missing.push(el.id);
      visit(el);
    }
  };
  (definitions.rootElements ?? []).filter((e: any) => e.$type === 'bpmn:Process').forEach(visit);
  return missing;
}

/**
 * bpmn-auto-layout follows each element's incoming/outgoing references, which
 * modelers write but hand-written XML often leaves out: they are filled in from
 * the sequence flows first. bpmn-auto-layout replaces the old layout.
 */
async function autoLayout(moddle: BpmnModdle, definitions: any): Promise<string> {
  const link = (container: any) => {
    for (const el of container.flowElements ?? []) {
      if (el.$type === 'bpmn:SequenceFlow') {
        for (const [node, side] of [[el.sourceRef, 'outgoing'], [el.targetRef, 'incoming']] as const) {
          if (node && !(node[side] ??= []).includes(el)) node[side].push(el);
        }
      }
      link(el);
    }
  };
  (definitions.rootElements ?? []).filter((e: any) => e.$type === 'bpmn:Process').forEach(link);
  const { xml } = await moddle.toXML(definitions);
  // bpmn-auto-layout ships no type declarations.
  const { layoutProcess }: { layoutProcess(xml: string): Promise<string> } = await import('bpmn-auto-layout' as string);
  return layoutProcess(xml);
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { width: { type: 'string' }, relayout: { type: 'boolean', default: false }, 'save-bpmn': { type: 'string' } },
  });
  const width = values.width === undefined ? undefined : Number(values.width);
  if (positionals.length !== 2 || (width !== undefined && !(Number.isInteger(width) && width >= 200 && width <= 16000))) {
    console.error(`${USAGE}\n(--width is a whole number of pixels between 200 and 16000)`);
    return 2;
  }
  const [input, outBase] = positionals;
  let xml = readFileSync(input, 'utf8');
  const moddle = new BpmnModdle();
  const { rootElement } = await moddle.fromXML(xml);
  const missing = undrawn(rootElement);
  if (values.relayout || missing.length) {
    if (missing.length) console.error(`${input}: the file's layout does not draw ${missing.length} element(s) (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}); the picture uses bpmn-auto-layout`);
    xml = await autoLayout(moddle, rootElement);
  }
  if (values['save-bpmn']) {
    writeFileSync(values['save-bpmn'], xml.endsWith('\n') ? xml : `${xml}\n`);
    console.log(values['save-bpmn']);
  }

  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.route('**/*', (route) => route.abort());
    await page.setContent('<div id="canvas"></div>');
    await page.addScriptTag({ path: VIEWER });
    const rendered: { svg: string; warnings: string[] } = await page.evaluate(async (diagram) => {
      const viewer = new (window as any).BpmnJS({ container: '#canvas' });
      const { warnings } = await viewer.importXML(diagram);
      return { svg: (await viewer.saveSVG()).svg, warnings: warnings.map((w: any) => String(w.message ?? w)) };
    }, xml);
    for (const w of rendered.warnings) console.error(`${input}: bpmn-js: ${w}`);
    const size = /<svg[^>]* width="([\d.]+)" height="([\d.]+)"/.exec(rendered.svg);
    if (!size || !Number(size[1])) throw new Error(`${input}: nothing was drawn`);

    const viewport = { width: Math.ceil(Number(size[1])) + 2 * MARGIN, height: Math.ceil(Number(size[2])) + 2 * MARGIN };
    const shot = await browser.newPage({ viewport, deviceScaleFactor: width ? width / viewport.width : 1 });
    await shot.route('**/*', (route) => route.abort());
    await shot.setContent(`<body style="margin: ${MARGIN}px; background: #fff"><style>svg { display: block }</style>${rendered.svg.replace(/^[^]*?(?=<svg)/, '')}</body>`);
    mkdirSync(dirname(outBase), { recursive: true });
    writeFileSync(`${outBase}.svg`, `${rendered.svg}\n`);
    await shot.screenshot({ path: `${outBase}.png` });
    console.log(`${outBase}.svg\n${outBase}.png  ${width ?? viewport.width} px wide`);
    return 0;
  } finally {
    await browser.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
