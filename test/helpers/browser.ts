import { expect } from 'chai';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { createApp } from '../../api/app.js';
import type { System } from '../../api/system.js';
import type { Clock } from '../../engine/clock.js';
import { freshDb, type TestDb } from './db.js';
import { Hotline } from './scenario.js';

/** Debian's Chromium, installed by .ci/run; playwright cannot download a browser on this network. */
export const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags Chromium keeps dialling hosts this closed network refuses.
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchBrowser(): Promise<Browser> {
  expect(existsSync(CHROMIUM), 'Debian chromium is installed by .ci/run (apt-get install chromium)').to.equal(true);
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
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
