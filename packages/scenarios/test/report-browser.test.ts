/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The HTML report in a real browser: Debian's Chromium driven by playwright-core (which downloads no
// browser). Without Chromium these tests are skipped with a note, except under CI, where they fail.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli-main.js';

const CHROMIUM = process.env.DSIM_CHROMIUM ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const onCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const hostile = resolve(import.meta.dirname, 'fixtures/hostile.scenario.ts');
const systemStorm = resolve(import.meta.dirname, '../../../examples/systems/retry-storm.scenario.ts');

if (!available && !onCi)
  console.warn(
    `report-browser tests skipped: no Chromium at ${CHROMIUM}. Enable them with 'apt-get install chromium' (or set DSIM_CHROMIUM to a Chromium binary).`,
  );

describe.runIf(!available && onCi)('report in a browser (CI)', () => {
  it('needs Chromium under CI', () => {
    throw new Error(
      `no Chromium at ${CHROMIUM}: CI must run the browser tests (.ci/run installs it with 'apt-get install chromium'; or set DSIM_CHROMIUM)`,
    );
  });
});

async function cli(...argv: string[]) {
  let stderr = '';
  const code = await main(argv, { stdout: () => {}, stderr: (t) => (stderr += t) });
  if (code !== 0) throw new Error(`dsim ${argv.join(' ')} exited ${code}: ${stderr}`);
}

describe.runIf(available)('report in a browser', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsim-report-browser-'));
  const storm = join(dir, 'storm.html');
  const markup = join(dir, 'hostile.html');
  const renamed = join(dir, 'renamed.html');
  const system = join(dir, 'system.html');
  const swept = join(dir, 'sweep.html');
  let browser: Browser;
  /** The retry-storm report, opened once for the tests that only read it. */
  let stormPage: Awaited<ReturnType<typeof open>>;

  beforeAll(async () => {
    await Promise.all([
      chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] }).then((b) => {
        browser = b;
      }),
      cli('run', 'retry-storm', '--seed', '1', '--report', storm),
      cli('run', hostile, '--seed', '1', '--report', markup),
      cli('run', systemStorm, '--seed', '1', '--report', system),
      cli(
        'sweep',
        'mmc',
        '--seeds',
        '1..4',
        '--set',
        'servers=2,3,4',
        '--set',
        'customers=300',
        '--workers',
        '1',
        '--report',
        swept,
      ),
    ]);
    // A saved result edited by hand: markup in the scenario name and a param, rendered by `dsim report`.
    const json = join(dir, 'hostile.json');
    let saved = '';
    await main(['run', hostile, '--seed', '1', '--json', '--detail'], {
      stdout: (t) => (saved += t),
      stderr: () => {},
    });
    const doc = JSON.parse(saved);
    doc.scenario = '<script>alert(1)</script>';
    doc.params.extra = '<img src=x onerror=alert(7)>';
    writeFileSync(json, JSON.stringify(doc));
    await cli('report', json, '-o', renamed);
    stormPage = await open(storm);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a report and collects console errors, page errors and dialogs. */
  async function open(file: string) {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    const dialogs: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    // No network: a self-contained page needs none.
    await page.route('**/*', (route) =>
      route.request().url().startsWith('file:') ? route.continue() : route.abort(),
    );
    await page.goto(`file://${file}`);
    return { page, problems, dialogs };
  }

  async function canvases(page: Page, selector: string) {
    return page.$$eval(`${selector} canvas`, (cs) =>
      cs.map((c) => {
        const canvas = c as unknown as { width: number; height: number };
        return { w: canvas.width, h: canvas.height };
      }),
    );
  }

  it('draws the overview charts, one line per variant, with no errors', async () => {
    const { page, problems } = stormPage;
    const sizes = await canvases(page, '#overview');
    expect(sizes.length).toBe(5); // goodput, offered load, errors, latency p50 and p99
    for (const s of sizes) expect(s.w * s.h).toBeGreaterThan(0);
    const legends = await page.$$eval('#overview .uplot', (plots) =>
      plots.map((p) => [...p.querySelectorAll('.u-legend .u-series .u-label')].map((l) => l.textContent)),
    );
    for (const labels of legends)
      expect(labels).toEqual([
        'time (s)',
        'naive',
        'backoff-jitter',
        'retry-budget',
        'drop-expired',
        'circuit-breaker',
      ]);
    expect(await page.locator('#checks tr.pass').count()).toBe(4);
    expect(problems).toEqual([]);
  });

  it('shows the values under the cursor in the legend', async () => {
    const { page, problems } = stormPage;
    const values = () => legendValues(page);
    expect((await values()).every((v) => v === '-' || v === '--')).toBe(true);
    const over = page.locator('#overview .u-over').first();
    await over.scrollIntoViewIfNeeded();
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2, { steps: 4 });
    await expect.poll(async () => (await values())[0]).not.toBe('-');
    const shown = await values();
    expect(shown[0]).toMatch(/^\d+(\.\d+)? s$/);
    expect(shown.slice(1).filter((v) => /^\d/.test(v)).length).toBe(5);
    expect(problems).toEqual([]);
  });

  it("draws a node's charts when its section is opened", async () => {
    const { page, problems } = stormPage;
    const server = page.locator('details.node', { hasText: 'server' });
    expect(await canvases(page, '#nodes')).toEqual([]);
    await server.locator('summary').click();
    const sizes = await canvases(page, '#nodes');
    expect(sizes.length).toBeGreaterThan(3);
    for (const s of sizes) expect(s.w * s.h).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  for (const [name, file] of [
    ['a scenario file with markup in its params, variants, checks, outcome and nodes', () => markup],
    ['a saved result with markup in its name, rendered by dsim report', () => renamed],
  ] as const) {
    it(`shows markup as text: ${name}`, async () => {
      const { page, problems, dialogs } = await open(file());
      await page.locator('details.node summary').first().click();
      const over = page.locator('.u-over').first();
      await over.scrollIntoViewIfNeeded();
      const box = (await over.boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 4 });
      await page.locator('details.node summary').first().hover();
      expect(dialogs).toEqual([]);
      expect(await page.locator('img').count()).toBe(0);
      expect(await page.locator('script').count()).toBe(3); // data, uPlot, the page's own
      const text = await page.locator('body').innerText();
      expect(text).toContain('<script>alert(1)</script>');
      expect(text).toContain('<img src=x onerror=alert(2)>');
      expect(text).toContain('<b onmouseover=alert(4)>node</b>');
      // The fault table and the topology show the node and phase names as text too.
      expect(await page.locator('#windows').innerText()).toContain('crash <b onmouseover=alert(4)>node</b>');
      expect(await page.locator('#topology-phase option').first().innerText()).toBe(
        '<i onclick=alert(8)>phase</i>',
      );
      expect(await page.locator('figure.topology g.node').nth(1).textContent()).toContain(
        '<b onmouseover=alert(4)>node</b>',
      );
      expect(await page.locator('i, b').count()).toBe(0);
      if (file() === renamed) {
        expect(await page.locator('h1').innerText()).toBe('<script>alert(1)</script>');
        expect(text).toContain('<img src=x onerror=alert(7)>');
        expect(await page.title()).toBe('dsim report: <script>alert(1)</script>');
      } else {
        expect(text).toContain('</script><script>alert(3)</script>');
        expect(text).toContain('detail <!-- <script>alert(1)</script>');
      }
      expect(problems).toEqual([]);
      await page.close();
    });
  }

  it('draws the topology per phase: the chooser shows one diagram at a time', async () => {
    const { page, problems } = await open(system);
    const visible = () =>
      page.$$eval('figure.topology', (fs) =>
        fs.filter((f) => !(f as HTMLElement).hidden).map((f) => f.getAttribute('data-phase')),
      );
    expect(await visible()).toEqual(['before']);
    const edge = async () =>
      (await page.locator('figure.topology:not([hidden]) text.edge-label').textContent()) ?? '';
    const rate = async () => Number((await edge()).split('/s')[0]);
    expect(await edge()).toMatch(/ · 0% err$/);
    expect(Math.abs((await rate()) - 70)).toBeLessThan(7); // 70/s offered, Poisson over 8 s
    await page.selectOption('#topology-phase', 'after');
    expect(await visible()).toEqual(['after']);
    // After the pause: every attempt times out and is retried (four per request).
    expect(await edge()).toMatch(/ · 100% err$/);
    expect(Math.abs((await rate()) - 280)).toBeLessThan(20);
    expect(
      await page.locator('figure.topology:not([hidden]) g.node.tone-bad').getAttribute('data-name'),
    ).toBe('client');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shades the fault window red and the phases grey under the lines', async () => {
    const { page, problems } = await open(system);
    const data = JSON.parse((await page.locator('#dsim-data').textContent()) ?? '{}');
    expect(data.windows.faults).toEqual([{ label: 'pause server', from: 10, to: 12 }]);
    // The colours of the first chart's plot area near its top, at simulated times 1, 11.5 and 50 s,
    // read in one go (one canvas readback).
    const [early, pause, after] = await page.evaluate(
      ([times, x0, x1]) => {
        const over = document.querySelector('#overview .u-over')!.getBoundingClientRect();
        const canvas = document.querySelector('#overview canvas') as HTMLCanvasElement;
        const c = canvas.getBoundingClientRect();
        const r = devicePixelRatio;
        const y = Math.round((over.top - c.top + 20) * r);
        const row = canvas.getContext('2d')!.getImageData(0, y, canvas.width, 1).data;
        return times.map((t) => {
          const x = Math.round((over.left - c.left + ((t - x0) / (x1 - x0)) * over.width) * r);
          return [...row.slice(4 * x, 4 * x + 4)];
        });
      },
      [[1, 11.5, 50], data.series.x[0], data.series.x.at(-1)] as const,
    );
    // The canvas is transparent where nothing is drawn (alpha 0).
    expect(early![3]).toBe(0); // before the warm-up cut: no band
    const [r2, g2, b2, a2] = pause!; // the pause (inside the 'during' phase too)
    expect(a2).toBeGreaterThan(30);
    expect(r2).toBeGreaterThan(g2! + 40);
    expect(Math.abs(g2! - b2!)).toBeLessThan(20);
    const [r3, g3, b3, a3] = after!; // the 'after' phase: grey
    expect(a3).toBeGreaterThan(5);
    expect(Math.abs(r3! - g3!)).toBeLessThan(4);
    expect(Math.abs(g3! - b3!)).toBeLessThan(4);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('draws a sweep: one chart per varying figure, its band under the line, values on hover', async () => {
    const { page, problems } = await open(swept);
    const data = JSON.parse((await page.locator('#dsim-sweep').textContent()) ?? '{}');
    const sizes = await canvases(page, '#charts');
    expect(sizes.length).toBe(data.charts.length);
    expect(sizes.length).toBeGreaterThan(3);
    const over = page.locator('#charts .u-over').first();
    await over.scrollIntoViewIfNeeded();
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + 2, box.y + box.height / 2, { steps: 4 });
    const values = await page.locator('#charts .uplot').first().locator('.u-legend .u-value').allInnerTexts();
    expect(values[0]).toBe('2'); // the first server count
    expect(problems).toEqual([]);
    await page.close();
  });

  it('the page is the same file the CLI wrote (no network, nothing fetched)', () => {
    const html = readFileSync(storm, 'utf8');
    expect(html).not.toMatch(/<script[^>]*\ssrc=|<link\b|@import|url\(\s*['"]?https?:/i);
  });
});

/** The legend values of the first overview chart: time first, then one per variant. */
async function legendValues(page: Page): Promise<string[]> {
  const texts = await page
    .locator('#overview .uplot')
    .first()
    .locator('.u-legend .u-series .u-value')
    .allInnerTexts();
  return texts.map((t) => t.trim());
}
