import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, installed by .ci/run; playwright cannot download a browser on this network. */
export const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags Chromium keeps dialling hosts this closed network refuses.
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchBrowser(): Promise<Browser> {
  expect(existsSync(CHROMIUM), 'Debian chromium is installed by .ci/run (apt-get install chromium)').to.equal(true);
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}
