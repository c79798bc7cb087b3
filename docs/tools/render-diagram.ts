/**
 * Render a BPMN diagram as a picture for the documentation: an SVG exported by
 * bpmn-js (NavigatedViewer) and a PNG screenshot, both from headless Chromium.
 *
 *   npx tsx docs/tools/render-diagram.ts processes/complaint-handling.bpmn docs/images/complaint-handling
 *     → docs/images/complaint-handling.svg and docs/images/complaint-handling.png
 *
 * Options:
 *   --width N     width of the PNG in pixels (default: the diagram at 100 %, so that
 *                 its 11 px labels stay legible; device scale factor 1)
 *   --as-drawn    use the diagram's own layout (BPMN DI) even when it is incomplete
 *   --save-bpmn F also write the diagram with the layout that was rendered to F
 *                 (same process, new DI; to open in Camunda Modeler and tidy up)
 *   --chromium P  the browser to drive (default /usr/bin/chromium, Debian's package)
 *
 * When the file's layout lacks shapes or connections (a diagram written by hand
 * or by a generator without <bpmn:incoming>/<bpmn:outgoing>), the picture would
 * show boxes without arrows; the tool then lays the process out again in memory
 * (its own layered layout for a single flat process, bpmn-auto-layout for pools
 * and sub-processes) and says so on stderr. The .bpmn file is never modified.
 * Exit codes: 0 written, 1 failure, 2 wrong usage.
 *
 * No network: the page is set from a string and bpmn-js is injected from
 * node_modules (bpmn-js/dist/bpmn-navigated-viewer.production.min.js).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BpmnModdle } from 'bpmn-moddle';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const camundaModdle = require('camunda-bpmn-moddle/resources/camunda.json');
const VIEWER_SCRIPT = require.resolve('bpmn-js/dist/bpmn-navigated-viewer.production.min.js');
const VIEWER_STYLES = ['bpmn-js/dist/assets/diagram-js.css', 'bpmn-js/dist/assets/bpmn-js.css'].map((p) => require.resolve(p));

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Margin around the diagram in the PNG, in diagram units. */
const MARGIN = 30;

const USAGE = 'usage: npx tsx docs/tools/render-diagram.ts IN.bpmn OUT_BASE [--width auto|PIXELS] [--as-drawn] [--save-bpmn FILE] [--chromium /usr/bin/chromium]';

/** Runs in the browser page; kept as plain text so that no TypeScript helper leaks into it. */
const PAGE_SCRIPT = `
window.renderDiagram = async function (xml) {
  const viewer = new window.BpmnJS({ container: '#canvas' });
  const { warnings } = await viewer.importXML(xml);
  const canvas = viewer.get('canvas');
  canvas.zoom('fit-viewport');
  const inner = canvas.viewbox().inner;
  const { svg } = await viewer.saveSVG();
  window.diagramCanvas = canvas;
  return { warnings: warnings.map((w) => String(w.message || w)), inner: { x: inner.x, y: inner.y, width: inner.width, height: inner.height }, svg };
};
window.showWhole = function (margin) {
  const canvas = window.diagramCanvas;
  canvas.resized();
  const inner = canvas.viewbox().inner;
  canvas.viewbox({ x: inner.x - margin, y: inner.y - margin, width: inner.width + 2 * margin, height: inner.height + 2 * margin });
  return canvas.zoom();
};
`;

const PAGE_HTML = `<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>diagram</title>
<style>html, body { margin: 0; padding: 0; background: #fff; } #canvas { width: 100vw; height: 100vh; }</style>
</head><body><div id="canvas"></div></body></html>`;

interface Layout {
  xml: string;
  /** Why the diagram was laid out again, or null when its own layout was used. */
  relaidOut: string | null;
}

/** Sequence flows without a drawn connection, and flow nodes without a drawn shape. */
async function missingLayout(xml: string): Promise<{ flows: string[]; nodes: string[] }> {
  const { rootElement } = await new BpmnModdle({ camunda: camundaModdle }).fromXML(xml);
  const drawn = new Set<string>();
  for (const diagram of (rootElement as any).diagrams ?? []) {
    for (const di of diagram.plane?.planeElement ?? []) if (di.bpmnElement?.id) drawn.add(di.bpmnElement.id);
  }
  const flows: string[] = [];
  const nodes: string[] = [];
  const visit = (container: any) => {
    for (const el of container.flowElements ?? []) {
      if (el.$type === 'bpmn:SequenceFlow') {
        if (!drawn.has(el.id)) flows.push(el.id);
      } else if (!drawn.has(el.id)) {
        nodes.push(el.id);
      }
      if (el.flowElements) visit(el);
    }
  };
  for (const root of (rootElement as any).rootElements ?? []) if (root.$type === 'bpmn:Process') visit(root);
  return { flows, nodes };
}

/**
 * A fresh layout by bpmn-auto-layout. It follows each node's incoming/outgoing
 * references, which Camunda Modeler writes but hand-written XML often omits,
 * so they are filled in from the sequence flows first, and the old layout is dropped.
 */
async function autoLayout(xml: string): Promise<string> {
  const moddle = new BpmnModdle({ camunda: camundaModdle });
  const { rootElement } = await moddle.fromXML(xml);
  const link = (container: any) => {
    for (const flow of (container.flowElements ?? []).filter((e: any) => e.$type === 'bpmn:SequenceFlow')) {
      const source = flow.sourceRef;
      const target = flow.targetRef;
      if (source) {
        source.outgoing ??= [];
        if (!source.outgoing.includes(flow)) source.outgoing.push(flow);
      }
      if (target) {
        target.incoming ??= [];
        if (!target.incoming.includes(flow)) target.incoming.push(flow);
      }
    }
    for (const el of container.flowElements ?? []) if (el.flowElements) link(el);
  };
  for (const root of (rootElement as any).rootElements ?? []) if (root.$type === 'bpmn:Process') link(root);
  (rootElement as any).diagrams = [];
  const { xml: linked } = await moddle.toXML(rootElement);
  // bpmn-auto-layout ships no type declarations.
  const autoLayoutModule = 'bpmn-auto-layout';
  const { layoutProcess } = (await import(autoLayoutModule)) as { layoutProcess: (xml: string) => Promise<string> };
  return layoutProcess(linked);
}

// ---------------------------------------------------------------------------
// A layered layout for one process (the picture only; the .bpmn is untouched).
// Columns are layers (longest path from the start events over the flows that
// are not loops back); rows are assigned greedily so that the default flow of
// each gateway runs straight on. Flows that span several columns go through
// reserved cells, so they never cross a shape; loops back run along tracks
// below the diagram (or above it, into the top of a shape in the first row).
// ---------------------------------------------------------------------------

const SIZE: Record<string, { width: number; height: number }> = {
  task: { width: 100, height: 80 },
  gateway: { width: 50, height: 50 },
  event: { width: 36, height: 36 },
};
const ROW_HEIGHT = 130;
const GAP = 70;
/** Extra room after a column holding a gateway, for the names of its flows. */
const LABELLED_GAP = 120;
const TRACK_SPACING = 12;
const LABEL_WIDTH = 90;
const LINE_HEIGHT = 14;

interface Point { x: number; y: number }
interface Item {
  id: string;
  el: any | null; // null for a dummy cell reserved by a long flow
  layer: number;
  row: number;
  width: number;
  height: number;
  kind: 'task' | 'gateway' | 'event' | 'dummy';
}
/** One step of a forward flow between adjacent columns. */
interface Step { from: Item; to: Item; flow: any; branch: number; fromBoundary: any | null; first: boolean; last: boolean }

const kindOf = (el: any): Item['kind'] =>
  /Gateway$/.test(el.$type) ? 'gateway' : /Event$/.test(el.$type) ? 'event' : 'task';

/** Rough number of lines bpmn-js will wrap a label into at the given width (11 px font). */
function labelLines(text: string, width: number): number {
  let lines = 1;
  let used = 0;
  for (const word of text.split(/\s+/)) {
    const w = word.length * 6.2 + 3;
    if (used && used + w > width - 6) {
      lines += 1;
      used = w;
    } else {
      used += w;
    }
  }
  return lines;
}

/** null when the layered layout does not apply (pools, sub-processes): bpmn-auto-layout is used instead. */
async function layeredLayout(xml: string): Promise<string | null> {
  const moddle: any = new BpmnModdle({ camunda: camundaModdle });
  const { rootElement } = await moddle.fromXML(xml);
  const defs: any = rootElement;
  const processes = (defs.rootElements ?? []).filter((e: any) => e.$type === 'bpmn:Process');
  if (processes.length !== 1 || (defs.rootElements ?? []).some((e: any) => e.$type === 'bpmn:Collaboration')) return null;
  const proc = processes[0];
  const elements: any[] = proc.flowElements ?? [];
  if (elements.some((e) => e.$type === 'bpmn:SubProcess' || e.$type === 'bpmn:Transaction' || e.$type === 'bpmn:AdHocSubProcess')) return null;

  const flows = elements.filter((e) => e.$type === 'bpmn:SequenceFlow' && e.sourceRef && e.targetRef);
  const boundaries = elements.filter((e) => e.$type === 'bpmn:BoundaryEvent' && e.attachedToRef);
  const nodes = elements.filter((e) => e.$type !== 'bpmn:SequenceFlow' && e.$type !== 'bpmn:BoundaryEvent' && !/^bpmn:Data/.test(e.$type));
  const nodeIds = new Set(nodes.map((n) => n.id));
  const boundariesOf = (host: any) => boundaries.filter((b) => b.attachedToRef === host);
  /** Where a flow leaves from, for the layout: a boundary event counts as its host. */
  const anchorOf = (flow: any) => (flow.sourceRef.$type === 'bpmn:BoundaryEvent' ? flow.sourceRef.attachedToRef : flow.sourceRef);
  const own = (n: any) => {
    const out = flows.filter((f) => f.sourceRef === n);
    return n.default ? [n.default, ...out.filter((f) => f !== n.default)] : out;
  };
  /** Outgoing flows in drawing order: the default flow first, then the others, then those of attached boundary events. */
  const outgoing = (n: any) => [...own(n), ...boundariesOf(n).flatMap((b) => own(b))];
  if (flows.some((f) => !nodeIds.has(anchorOf(f).id) || !nodeIds.has(f.targetRef.id))) return null;

  // 1. Loops: a depth-first walk from the start events; a flow to a node still on the walk's stack is a loop back.
  //    Exceptional paths (boundary events) are walked first, so that loops are closed at the latest step.
  const back = new Set<any>();
  const state = new Map<any, 'open' | 'done'>();
  const walk = (n: any) => {
    state.set(n, 'open');
    for (const f of [...boundariesOf(n).flatMap((b) => own(b)), ...own(n)]) {
      const t = f.targetRef;
      if (state.get(t) === 'open') back.add(f);
      else if (!state.has(t)) walk(t);
    }
    state.set(n, 'done');
  };
  const starts = nodes.filter((n) => !flows.some((f) => f.targetRef === n));
  for (const s of starts) if (!state.has(s)) walk(s);
  for (const n of nodes) if (!state.has(n)) walk(n);

  // 2. Layers: longest path over the forward flows.
  const layer = new Map<any, number>(nodes.map((n) => [n, 0]));
  for (let changed = true, guard = 0; changed && guard < nodes.length + 2; guard++) {
    changed = false;
    for (const f of flows) {
      if (back.has(f)) continue;
      const want = layer.get(anchorOf(f))! + 1;
      if (layer.get(f.targetRef)! < want) {
        layer.set(f.targetRef, want);
        changed = true;
      }
    }
  }

  // 3. Items per layer (nodes, and dummies where a flow crosses a column), and steps between adjacent layers.
  const items: Item[][] = [];
  const itemOf = new Map<any, Item>();
  const put = (item: Item) => {
    (items[item.layer] ??= []).push(item);
    return item;
  };
  for (const n of nodes) {
    const kind = kindOf(n);
    itemOf.set(n, put({ id: n.id, el: n, layer: layer.get(n)!, row: -1, ...SIZE[kind], kind }));
  }
  const steps: Step[] = [];
  const stepsOfFlow = new Map<any, Step[]>();
  /** Flows from a boundary event to a shape several columns away run along a track under the diagram instead. */
  const tracked = new Set(flows.filter((f) => !back.has(f) && f.sourceRef.$type === 'bpmn:BoundaryEvent' && layer.get(f.targetRef)! - layer.get(anchorOf(f))! > 1));
  for (const n of nodes) {
    outgoing(n).forEach((f: any, branch: number) => {
      if (back.has(f) || tracked.has(f)) return;
      const from = itemOf.get(n)!;
      const to = itemOf.get(f.targetRef)!;
      const chain: Item[] = [from];
      for (let l = from.layer + 1; l < to.layer; l++) chain.push(put({ id: `${f.id}@${l}`, el: null, layer: l, row: -1, width: 0, height: 0, kind: 'dummy' }));
      chain.push(to);
      const list: Step[] = [];
      for (let i = 0; i + 1 < chain.length; i++) {
        list.push({ from: chain[i], to: chain[i + 1], flow: f, branch: i === 0 ? branch : 0, fromBoundary: i === 0 && f.sourceRef.$type === 'bpmn:BoundaryEvent' ? f.sourceRef : null, first: i === 0, last: i + 2 === chain.length });
      }
      steps.push(...list);
      stepsOfFlow.set(f, list);
    });
  }

  // 4. Rows, column by column: each item goes where its predecessor's branch points (the default flow straight on,
  //    further branches below, boundary-event branches after the others), never above an item placed before it.
  for (const [l, list] of items.entries()) {
    if (!list) continue;
    const keyed = list.map((item, i) => {
      const incoming = steps.filter((s) => s.to === item);
      const wish = incoming.length ? Math.min(...incoming.map((s) => s.from.row + s.branch)) : 0;
      const late = incoming.length && incoming.every((s) => s.fromBoundary) ? 1 : 0;
      return { item, wish, key: [late, wish, i] as number[] };
    });
    keyed.sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.key[2] - b.key[2]);
    let next = 0;
    for (const k of keyed) {
      k.item.row = Math.max(k.wish, next);
      next = k.item.row + 1;
    }
    void l;
  }

  // 5. Coordinates: a column as wide as its widest shape, rows of equal height.
  const columns: Array<{ left: number; width: number; gapAfter: number }> = [];
  let x = 0;
  for (const list of items) {
    const width = Math.max(1, ...(list ?? []).map((i) => i.width));
    const labelled = (list ?? []).some((i) => i.kind === 'gateway' || (i.el && own(i.el).some((f: any) => f.name)));
    const gapAfter = labelled ? LABELLED_GAP : GAP;
    columns.push({ left: x, width, gapAfter });
    x += width + gapAfter;
  }
  const maxRow = Math.max(...items.flat().map((i) => i.row));
  const centerX = (i: Item) => columns[i.layer].left + columns[i.layer].width / 2;
  const centerY = (i: Item) => i.row * ROW_HEIGHT + ROW_HEIGHT / 2;
  const box = (i: Item) => ({ x: centerX(i) - i.width / 2, y: centerY(i) - i.height / 2, width: i.width, height: i.height });
  const boundaryPos = new Map<any, Point>();
  for (const n of nodes) {
    const list = boundariesOf(n);
    const b = box(itemOf.get(n)!);
    // Spread along the bottom edge, 20 px in from the corners, so that neighbours never overlap.
    const step = list.length > 1 ? (b.width - 40) / (list.length - 1) : 0;
    list.forEach((ev: any, i: number) => boundaryPos.set(ev, { x: list.length > 1 ? b.x + 20 + step * i : b.x + b.width / 2, y: b.y + b.height }));
  }

  // 6. Vertical segments in the gaps: one x per source (fan-out) or per target (fan-in). A flow that leaves a
  //    column at row r turns left of every flow that enters the next column at row r, so no two run on one line.
  const jogKey = (s: Step) => {
    const fanIn = steps.filter((o) => o.to === s.to).length > 1 && !(s.from.el && outgoing(s.from.el).length > 1);
    return fanIn ? `in:${s.to.id}` : s.fromBoundary ? `b:${s.fromBoundary.id}` : `out:${s.from.id}`;
  };
  const gapUse = new Map<number, Map<string, { exits: Set<number>; entries: Set<number> }>>();
  const jogWanted = (gap: number, key: string, exit: number | null, entry: number | null) => {
    const keys = gapUse.get(gap) ?? new Map();
    const use = keys.get(key) ?? { exits: new Set<number>(), entries: new Set<number>() };
    if (exit !== null) use.exits.add(exit);
    if (entry !== null) use.entries.add(entry);
    keys.set(key, use);
    gapUse.set(gap, keys);
  };
  for (const s of steps) {
    if (s.from.row !== s.to.row && !s.fromBoundary) jogWanted(s.from.layer, jogKey(s), s.from.row, s.to.row);
  }
  for (const s of steps) if (s.fromBoundary) jogWanted(s.from.layer, jogKey(s), null, s.to.row);
  const backFlows = flows.filter((f) => back.has(f) || tracked.has(f));
  for (const f of backFlows) {
    const from = itemOf.get(anchorOf(f))!;
    const to = itemOf.get(f.targetRef)!;
    jogWanted(from.layer, `back-out:${f.id}`, f.sourceRef.$type === 'bpmn:BoundaryEvent' ? null : from.row, null);
    if (!(back.has(f) && to.row === 0)) jogWanted(to.layer - 1, `back-in:${f.id}`, null, to.row);
  }
  const gapKeys = new Map<number, string[]>();
  for (const [gap, keys] of gapUse) {
    const pending = [...keys.keys()];
    const ordered: string[] = [];
    while (pending.length) {
      // The first key that no other pending key must precede; on a cycle, simply the first.
      const free = pending.find((k) => !pending.some((o) => o !== k && [...keys.get(o)!.exits].some((r) => keys.get(k)!.entries.has(r))));
      const next = free ?? pending[0];
      ordered.push(next);
      pending.splice(pending.indexOf(next), 1);
    }
    gapKeys.set(gap, ordered);
  }
  const jogX = (gap: number, key: string) => {
    const list = gapKeys.get(gap) ?? [key];
    const c = columns[Math.max(0, gap)];
    const left = gap < 0 ? -GAP : c.left + c.width;
    const width = gap < 0 ? GAP : c.gapAfter;
    // Gateways branch close to their shape, which leaves the rest of the gap for the flows' names.
    const room = Math.min(width - 20, 14 * (list.length + 1));
    return left + (room * (list.indexOf(key) + 1)) / (list.length + 1);
  };

  const right = (i: Item): Point => ({ x: centerX(i) + i.width / 2, y: centerY(i) });
  const leftPt = (i: Item): Point => ({ x: centerX(i) - i.width / 2, y: centerY(i) });
  const waypoints = new Map<any, Point[]>();
  for (const [f, list] of stepsOfFlow) {
    const pts: Point[] = [];
    for (const s of list) {
      let start: Point;
      if (s.fromBoundary) {
        // Straight down to the target's row when the host's column is free below the host, else along the corridor under the host's row.
        const p = boundaryPos.get(s.fromBoundary)!;
        const column = items[s.from.layer].filter((i) => i !== s.from && i.row > s.from.row && i.row <= s.to.row);
        const down = column.length ? centerY(s.from) + ROW_HEIGHT / 2 : centerY(s.to);
        pts.push({ x: p.x, y: p.y + SIZE.event.height / 2 }, { x: p.x, y: down });
        start = { x: p.x, y: down };
        if (!column.length) {
          pts.push(s.to.kind === 'dummy' ? { x: centerX(s.to), y: centerY(s.to) } : leftPt(s.to));
          continue;
        }
      } else {
        start = s.from.kind === 'dummy' ? { x: centerX(s.from), y: centerY(s.from) } : right(s.from);
        if (!pts.length) pts.push(start);
      }
      const end = s.to.kind === 'dummy' ? { x: centerX(s.to), y: centerY(s.to) } : leftPt(s.to);
      if (start.y !== end.y) {
        const jx = jogX(s.from.layer, jogKey(s));
        pts.push({ x: jx, y: start.y }, { x: jx, y: end.y });
      }
      pts.push(end);
    }
    waypoints.set(f, pts);
  }
  // Loops back: along tracks above the diagram into the top of a first-row shape, else below it into the shape's left side.
  const spans = backFlows.map((f) => ({ f, span: Math.abs(layer.get(anchorOf(f))! - layer.get(f.targetRef)!) })).sort((a, b) => a.span - b.span);
  let above = 0;
  let below = 0;
  const intoTop = new Map<any, any[]>();
  for (const { f } of spans) if (back.has(f) && itemOf.get(f.targetRef)!.row === 0) intoTop.set(f.targetRef, [...(intoTop.get(f.targetRef) ?? []), f]);
  for (const { f } of spans) {
    const from = itemOf.get(anchorOf(f))!;
    const to = itemOf.get(f.targetRef)!;
    const boundary = f.sourceRef.$type === 'bpmn:BoundaryEvent' ? boundaryPos.get(f.sourceRef)! : null;
    const start = boundary ? { x: boundary.x, y: boundary.y + SIZE.event.height / 2 } : right(from);
    const out = jogX(from.layer, `back-out:${f.id}`);
    const pts: Point[] = [start];
    const viaTop = back.has(f) && to.row === 0;
    // From a boundary event: straight down to a track below when nothing lies under the host in its column, else via the corridor under its row.
    const straightDown = !!boundary && !viaTop && !items[from.layer].some((i) => i !== from && i.row > from.row);
    if (boundary && !straightDown) pts.push({ x: start.x, y: centerY(from) + ROW_HEIGHT / 2 }, { x: out, y: centerY(from) + ROW_HEIGHT / 2 });
    else if (!boundary) pts.push({ x: out, y: start.y });
    const downX = straightDown ? start.x : out;
    if (viaTop) {
      const y = -20 - above++ * TRACK_SPACING;
      const siblings = intoTop.get(f.targetRef)!;
      const b = box(to);
      const tx = b.x + (b.width * (siblings.indexOf(f) + 1)) / (siblings.length + 1);
      pts.push({ x: out, y }, { x: tx, y }, { x: tx, y: b.y });
    } else {
      const y = (maxRow + 1) * ROW_HEIGHT + below++ * TRACK_SPACING;
      const inX = jogX(to.layer - 1, `back-in:${f.id}`);
      pts.push({ x: downX, y }, { x: inX, y }, { x: inX, y: centerY(to) }, leftPt(to));
    }
    waypoints.set(f, pts);
  }

  // 7. Labels: events below their shape, gateways above; a flow's name over its last horizontal stretch.
  const create = (type: string, attrs: Record<string, unknown>) => moddle.create(type as any, attrs as any);
  const bounds = (b: { x: number; y: number; width: number; height: number }) => create('dc:Bounds', b);
  const planeElements: any[] = [];
  const shapeLabel = (el: any, b: { x: number; y: number; width: number; height: number }, where: 'above' | 'below') => {
    if (!el.name) return undefined;
    const height = labelLines(el.name, LABEL_WIDTH) * LINE_HEIGHT;
    const y = where === 'below' ? b.y + b.height + 5 : b.y - 5 - height;
    // A gateway's name ends at its right corner, clear of the flows that turn just after it.
    const x = where === 'below' ? b.x + b.width / 2 - LABEL_WIDTH / 2 : b.x + b.width - LABEL_WIDTH;
    return create('bpmndi:BPMNLabel', { bounds: bounds({ x, y, width: LABEL_WIDTH, height }) });
  };
  for (const n of nodes) {
    const item = itemOf.get(n)!;
    const b = box(item);
    const attrs: Record<string, unknown> = { id: `${n.id}_di`, bpmnElement: n, bounds: bounds(b) };
    if (item.kind === 'gateway') attrs.label = shapeLabel(n, b, 'above');
    if (item.kind === 'event') attrs.label = shapeLabel(n, b, 'below');
    if (n.$type === 'bpmn:ExclusiveGateway') attrs.isMarkerVisible = true;
    planeElements.push(create('bpmndi:BPMNShape', attrs));
  }
  for (const n of nodes) {
    const list = boundariesOf(n);
    list.forEach((ev: any, i: number) => {
      const p = boundaryPos.get(ev)!;
      const b = { x: p.x - SIZE.event.width / 2, y: p.y - SIZE.event.height / 2, width: SIZE.event.width, height: SIZE.event.height };
      // Names beside the line that leaves the event downwards: the first to its left, the others to its right.
      const label = ev.name
        ? create('bpmndi:BPMNLabel', {
            bounds: bounds({
              x: i === 0 && list.length > 1 ? p.x - 4 - LABEL_WIDTH : p.x + 4 + (list.length > 1 ? 0 : SIZE.event.width / 2 - 4),
              y: b.y + b.height + 2,
              width: LABEL_WIDTH,
              height: labelLines(ev.name, LABEL_WIDTH) * LINE_HEIGHT,
            }),
          })
        : undefined;
      planeElements.push(create('bpmndi:BPMNShape', { id: `${ev.id}_di`, bpmnElement: ev, bounds: bounds(b), label }));
    });
  }
  for (const f of flows) {
    const pts = simplify(waypoints.get(f) ?? []);
    const attrs: Record<string, unknown> = { id: `${f.id}_di`, bpmnElement: f, waypoint: pts.map((p) => create('dc:Point', { x: p.x, y: p.y })) };
    if (f.name && pts.length > 1) {
      // The last horizontal stretch that is long enough, else the first one.
      let a = pts[pts.length - 2];
      let b = pts[pts.length - 1];
      for (let i = pts.length - 1; i > 0; i--) {
        if (pts[i].y === pts[i - 1].y && Math.abs(pts[i].x - pts[i - 1].x) >= 60) {
          a = pts[i - 1];
          b = pts[i];
          break;
        }
      }
      const width = Math.max(40, Math.min(Math.abs(b.x - a.x) - 8, 150));
      const height = labelLines(f.name, width) * LINE_HEIGHT;
      const cx = a.y === b.y ? Math.min(a.x, b.x) + Math.min(Math.abs(b.x - a.x), 170) / 2 : a.x + width / 2 + 4;
      const y = a.y === b.y ? a.y - 4 - height : (a.y + b.y) / 2 - height / 2;
      attrs.label = create('bpmndi:BPMNLabel', { bounds: bounds({ x: cx - width / 2, y, width, height }) });
    }
    planeElements.push(create('bpmndi:BPMNEdge', attrs));
  }
  const plane = create('bpmndi:BPMNPlane', { id: `${proc.id}_plane`, bpmnElement: proc, planeElement: planeElements });
  defs.diagrams = [create('bpmndi:BPMNDiagram', { id: `${proc.id}_diagram`, plane })];
  const { xml: out } = await moddle.toXML(defs, { format: true });
  return out;
}

/** Drops points that repeat or lie on a straight line between their neighbours. */
function simplify(points: Point[]): Point[] {
  const out: Point[] = [];
  for (const p of points) {
    const q = { x: Math.round(p.x), y: Math.round(p.y) };
    const last = out[out.length - 1];
    if (last && last.x === q.x && last.y === q.y) continue;
    const prev = out[out.length - 2];
    if (prev && last && ((prev.x === last.x && last.x === q.x) || (prev.y === last.y && last.y === q.y))) out.pop();
    out.push(q);
  }
  return out;
}

async function chooseLayout(xml: string, asDrawn: boolean): Promise<Layout> {
  const missing = await missingLayout(xml);
  if (asDrawn || (!missing.flows.length && !missing.nodes.length)) return { xml, relaidOut: null };
  const parts = [
    missing.nodes.length ? `${missing.nodes.length} element(s) without a shape` : '',
    missing.flows.length ? `${missing.flows.length} sequence flow(s) without a connection` : '',
  ].filter(Boolean);
  const layered = await layeredLayout(xml);
  return {
    xml: layered ?? (await autoLayout(xml)),
    relaidOut: `the diagram's own layout has ${parts.join(' and ')}; the picture uses ${layered ? 'a layered layout computed by this tool' : 'an automatic layout (bpmn-auto-layout)'}`,
  };
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      width: { type: 'string', default: 'auto' },
      'as-drawn': { type: 'boolean', default: false },
      'save-bpmn': { type: 'string' },
      chromium: { type: 'string', default: '/usr/bin/chromium' },
    },
  });
  if (positionals.length !== 2) {
    console.error(USAGE);
    return 2;
  }
  const auto = values.width === 'auto';
  let width = auto ? 2400 : Number(values.width);
  if (!Number.isInteger(width) || width < 200 || width > 16000) {
    console.error(`--width must be a whole number of pixels between 200 and 16000; got ${values.width}\n${USAGE}`);
    return 2;
  }
  const [input, outBase] = positionals;
  const source = readFileSync(input, 'utf8');
  const layout = await chooseLayout(source, values['as-drawn']);
  if (layout.relaidOut) {
    console.error(`${input}: ${layout.relaidOut}. Pass --as-drawn to render the file's layout as it is.`);
  }
  if (values['save-bpmn']) {
    writeFileSync(values['save-bpmn'], layout.xml.endsWith('\n') ? layout.xml : `${layout.xml}\n`);
    console.log(values['save-bpmn']);
  }

  const browser = await chromium.launch({ executablePath: values.chromium, headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width, height: 1000 }, deviceScaleFactor: 1 });
    // Nothing may leave the machine: every request other than the inline page is refused.
    await page.route('**/*', (route) => route.abort());
    await page.setContent(PAGE_HTML);
    for (const path of VIEWER_STYLES) await page.addStyleTag({ path });
    await page.addScriptTag({ path: VIEWER_SCRIPT });
    await page.addScriptTag({ content: PAGE_SCRIPT });

    const rendered: { warnings: string[]; inner: { x: number; y: number; width: number; height: number }; svg: string } =
      await page.evaluate((xml) => (window as any).renderDiagram(xml), layout.xml);
    for (const w of rendered.warnings) console.error(`${input}: bpmn-js: ${w}`);
    if (!rendered.inner.width || !rendered.inner.height) throw new Error(`${input}: nothing was drawn (the diagram has no layout at all?)`);

    // The viewport takes the diagram's proportions at the requested width, then the whole diagram is fitted into it.
    if (auto) width = Math.min(16000, Math.ceil(rendered.inner.width + 2 * MARGIN));
    const scale = width / (rendered.inner.width + 2 * MARGIN);
    const height = Math.ceil((rendered.inner.height + 2 * MARGIN) * scale);
    if (height > 30000) throw new Error(`${input}: the picture would be ${width}×${height} px; use a smaller --width or a wider layout`);
    await page.setViewportSize({ width, height });
    const zoom: number = await page.evaluate((margin) => (window as any).showWhole(margin), MARGIN);

    mkdirSync(dirname(resolve(outBase)), { recursive: true });
    writeFileSync(`${outBase}.svg`, `${rendered.svg}\n`);
    await page.screenshot({ path: `${outBase}.png`, fullPage: false });
    console.log(`${outBase}.svg`);
    console.log(`${outBase}.png  ${width}×${height} px, zoom ${zoom.toFixed(2)}${layout.relaidOut ? ', automatic layout' : ''}`);
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
