// Times the dashboard in Debian's Chromium (playwright-core): for RUNS fresh browser contexts
// (no cache), from navigation to the overview's host count shown, and from there to the first
// row of the hosts list. Prints one JSON line: label, runs, p50/max of both, in ms.
// Environment: CC_BASE (a server in local mode), LABEL, RUNS, PW_NODE_MODULES, CHROMIUM.

import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const env = process.env;
const require = createRequire(`${resolve(env.PW_NODE_MODULES)}/`);
const { chromium } = require('playwright-core');
const runs = Number(env.RUNS || 10);
const browser = await chromium.launch({
  executablePath: env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const overview = [];
const hosts = [];
try {
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    let t0 = performance.now();
    await page.goto(`${env.CC_BASE}/admin/`);
    await page.getByTestId('hosts-total').waitFor({ timeout: 30000 });
    overview.push(performance.now() - t0);
    t0 = performance.now();
    await page.goto(`${env.CC_BASE}/admin/#/hosts`);
    await page.locator('main table tbody tr').first().waitFor({ timeout: 30000 });
    hosts.push(performance.now() - t0);
    await context.close();
  }
} finally {
  await browser.close();
}
const p50 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => Math.round(x * 10) / 10;
console.log(
  JSON.stringify({
    label: env.LABEL,
    runs,
    overview_p50_ms: ms(p50(overview)),
    overview_max_ms: ms(Math.max(...overview)),
    hosts_list_p50_ms: ms(p50(hosts)),
    hosts_list_max_ms: ms(Math.max(...hosts)),
  }),
);
