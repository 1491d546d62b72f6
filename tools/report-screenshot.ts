/**
 * Renders the report screenshots in docs/assets:
 * - report-retry-storm.png: the top of the report of `dsim run retry-storm --seed 1`, the cursor on the
 *   goodput chart;
 * - report-three-tier.png: the three-tier system example (`examples/systems/three-tier.scenario.ts`),
 *   its topology in the `during` phase (the cache crashed) above the goodput chart with the crash shaded.
 * A docs helper, not part of the library; needs Chromium at /usr/bin/chromium (or DSIM_CHROMIUM).
 *
 *   pnpm tsx --conditions @dsim/source tools/report-screenshot.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { main } from '../packages/scenarios/src/cli-main.js';

const dir = mkdtempSync(join(tmpdir(), 'dsim-report-shot-'));
const asset = (name: string) => new URL(`../docs/assets/${name}`, import.meta.url).pathname;

async function report(target: string, file: string): Promise<string> {
  const html = join(dir, file);
  const code = await main(['run', target, '--seed', '1', '--report', html], {
    stdout: () => {},
    stderr: (t) => process.stderr.write(t),
  });
  if (code !== 0) throw new Error(`dsim run ${target} exited ${code}`);
  return html;
}

async function retryStorm(browser: Browser): Promise<void> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 2000 } });
  await page.goto(`file://${await report('retry-storm', 'storm.html')}`);
  const over = page.locator('#overview .u-over').first();
  const box = (await over.boundingBox())!;
  const bottom = await page
    .locator('#overview figure')
    .nth(1)
    .evaluate((e) => e.getBoundingClientRect().top);
  await page.mouse.move(box.x + box.width * 0.12, box.y + box.height * 0.4, { steps: 4 });
  await page.waitForFunction(
    () => document.querySelector('#overview .u-legend .u-value')?.textContent !== '-',
  );
  await page.screenshot({
    path: asset('report-retry-storm.png'),
    clip: { x: 0, y: 0, width: 1100, height: Math.ceil(bottom) },
    fullPage: true,
  });
  await page.close();
}

async function threeTier(browser: Browser): Promise<void> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 2400 } });
  await page.goto(`file://${await report('examples/systems/three-tier.scenario.ts', 'three-tier.html')}`);
  await page.selectOption('#topology-phase', 'during');
  const top = await page.locator('#topology').evaluate((e) => e.getBoundingClientRect().top);
  const bottom = await page
    .locator('#overview figure')
    .nth(1)
    .evaluate((e) => e.getBoundingClientRect().top);
  // The windows tables sit between the diagram and the charts: hide them for the picture.
  await page.locator('#windows').evaluate((e) => ((e as HTMLElement).style.display = 'none'));
  const shifted = await page
    .locator('#overview figure')
    .nth(1)
    .evaluate((e) => e.getBoundingClientRect().top);
  await page.screenshot({
    path: asset('report-three-tier.png'),
    clip: { x: 0, y: Math.floor(top) - 8, width: 1100, height: Math.ceil(Math.min(bottom, shifted) - top) },
    fullPage: true,
  });
  await page.close();
}

const browser = await chromium.launch({
  executablePath: process.env.DSIM_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
try {
  await retryStorm(browser);
  await threeTier(browser);
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
