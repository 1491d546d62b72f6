/**
 * Renders docs/assets/report-retry-storm.png: the top of the HTML report of `dsim run retry-storm
 * --seed 1`, with the cursor on the goodput chart. A docs helper, not part of the library; needs
 * Chromium at /usr/bin/chromium (or DSIM_CHROMIUM).
 *
 *   pnpm tsx --conditions @dsim/source tools/report-screenshot.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { main } from '../packages/scenarios/src/cli-main.js';

const dir = mkdtempSync(join(tmpdir(), 'dsim-report-shot-'));
const html = join(dir, 'report.html');
const code = await main(['run', 'retry-storm', '--seed', '1', '--report', html], {
  stdout: () => {},
  stderr: (t) => process.stderr.write(t),
});
if (code !== 0) throw new Error(`dsim run exited ${code}`);
const browser = await chromium.launch({
  executablePath: process.env.DSIM_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const page = await browser.newPage({ viewport: { width: 1100, height: 2000 } });
await page.goto(`file://${html}`);
const over = page.locator('#overview .u-over').first();
const box = (await over.boundingBox())!;
const bottom = await page
  .locator('#overview figure')
  .nth(1)
  .evaluate((e) => e.getBoundingClientRect().top);
await page.mouse.move(box.x + box.width * 0.12, box.y + box.height * 0.4, { steps: 4 });
const legend = page.locator('#overview .uplot').first().locator('.u-legend .u-value');
await page.waitForFunction(() => document.querySelector('#overview .u-legend .u-value')?.textContent !== '-');
console.log(`cursor at ${(await legend.allInnerTexts()).join(' | ')}`);
await page.screenshot({
  path: new URL('../docs/assets/report-retry-storm.png', import.meta.url).pathname,
  clip: { x: 0, y: 0, width: 1100, height: Math.ceil(bottom) },
  fullPage: true,
});
await browser.close();
rmSync(dir, { recursive: true, force: true });
