import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { createApp } from '../../api/app.js';
import type { System } from '../../api/system.js';
import type { Clock } from '../../engine/clock.js';
import { freshDb, type TestDb } from './db.js';
import { Hotline } from './scenario.js';

// Without the background-networking flags Chromium keeps dialling hosts this closed network refuses.
// No sandbox: tests often run as root (CI does), where Chromium refuses to start sandboxed.
const ARGS = ['--headless', '--no-sandbox', '--no-zygote', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * The browser of the page tests: by default the headless Chromium that the npm package
 * @sparticuz/chromium ships (a devDependency), so `npm install && npm test` needs nothing but
 * Node; PAKN_CHROMIUM names another executable instead (e.g. Debian's /usr/bin/chromium).
 */
export async function launchBrowser(): Promise<Browser> {
  const own = process.env.PAKN_CHROMIUM;
  if (own) {
    expect(existsSync(own), `PAKN_CHROMIUM=${own}: no such executable`).to.equal(true);
    return chromium.launch({ executablePath: own, args: ARGS });
  }
  expect(`${process.platform}-${process.arch}`, '@sparticuz/chromium runs on Linux x64 only: set PAKN_CHROMIUM to a Chromium executable').to.equal('linux-x64');
  const dir = await shippedChromium();
  return chromium.launch({
    executablePath: join(dir, 'chromium'),
    args: ARGS,
    env: {
      ...process.env,
      // The package's NSS, NSPR and expat (built for Amazon Linux, glibc only below them): the
      // machine's own may be missing or another version.
      LD_LIBRARY_PATH: [join(dir, 'al2023', 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      // Only the package's Open Sans (full Vietnamese): pages and screenshots look the same on
      // every machine, whatever fonts it has or lacks.
      FONTCONFIG_FILE: join(dir, 'fonts.conf'),
    },
  });
}

/**
 * The folder of the shipped Chromium, unpacked once per package version into the temporary
 * directory (the package itself would unpack to a fixed /tmp/chromium and reuse whatever version
 * is there). The package's own code unpacks it, in a child process whose TMPDIR is a staging folder
 * then renamed: test runs started together never see a half-written binary.
 */
async function shippedChromium(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve('@sparticuz/chromium');
  const root = join(dirname(entry), '..');
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const dir = join(tmpdir(), `pakn-chromium-${version}`);
  if (existsSync(join(dir, 'fonts.conf'))) return dir;
  const staging = `${dir}.${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const script = `const { default: c, inflate } = await import(${JSON.stringify(pathToFileURL(entry).href)});
    await c.executablePath();
    await inflate(${JSON.stringify(join(root, 'bin', 'al2023.tar.br'))});`;
  await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, TMPDIR: staging } });
  writeFileSync(
    join(staging, 'fonts.conf'),
    `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${join(dir, 'fonts', 'fonts')}</dir>\n  <cachedir>${join(dir, 'fonts-cache')}</cachedir>\n</fontconfig>\n`,
  );
  try {
    renameSync(staging, dir);
  } catch (err) {
    // Another test run unpacked the same version first: use its copy.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(dir, 'fonts.conf'))) throw err;
  }
  return dir;
}

/** The clock of the system a browser looks at (set by servePages, read by openPage). */
const systemClocks = new WeakMap<Browser, Clock>();

/** A system served on a loopback port and a browser to look at it; `close` ends both. */
export async function servePages(system: System): Promise<{ base: string; browser: Browser; close(): Promise<void> }> {
  const server: Server = createApp(system).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const browser = await launchBrowser();
  systemClocks.set(browser, system.clock);
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    browser,
    async close() {
      await browser.close();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Open a page authenticated with `key` (in the URL fragment, as users do) and wait until it says it is ready. */
export async function openPage(browser: Browser, url: string, authorization: string, viewport = { width: 1600, height: 1000 }) {
  const page = await browser.newPage({ viewport });
  // The page's Date is the served node's clock (a test's ManualClock), not the
  // machine's: "this week" and "overdue" in the browser agree with the server.
  const clock = systemClocks.get(browser);
  if (clock) await page.clock.setFixedTime(clock.now());
  await page.goto(`${url}#key=${encodeURIComponent(authorization.slice('Bearer '.length))}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  return page;
}

/** A hotline on a fresh database (processes deployed), served and opened in a browser; `close` ends all three. */
export async function hotlineInBrowser(): Promise<{ t: TestDb; h: Hotline; base: string; browser: Browser; close(): Promise<void> }> {
  const t = await freshDb();
  const h = await Hotline.open(t.db);
  const pages = await servePages(h.s);
  return {
    t,
    h,
    base: pages.base,
    browser: pages.browser,
    async close() {
      await pages.close();
      await t.close();
    },
  };
}
