import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mmc } from '../src/catalogue/mmc.js';
import { main } from '../src/cli-main.js';
import { mergeSweeps, type SweepShard } from '../src/sweep/merge.js';
import { sweepInWorkers } from '../src/sweep/pool.js';
import type { SweepRun } from '../src/sweep/run-point.js';
import { sweep } from '../src/sweep/sweep.js';
import { defineSystemScenario } from '../src/system/system-scenario.js';
import '../src/vitest.js';

const dir = mkdtempSync(join(tmpdir(), 'dsim-sweep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (f: string) => join(dir, f);

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

/** A small M/M/c sweep: two server counts, six seeds, short runs. */
const options = {
  seeds: [1, 2, 3, 4, 5, 6],
  grid: { servers: [2, 3] },
  set: { lambda: 1.5, customers: 400 },
};

describe('sweep()', () => {
  it('summarises every figure per point; the intervals hold the Erlang C answer here', () => {
    const r = sweep(mmc, options);
    expect(r.points.map((p) => p.id)).toEqual(['servers=2', 'servers=3']);
    expect(r.runs).toBe(12);
    for (const p of r.points) {
      const w = p.figures.meanWait!;
      expect(w.n).toBe(6);
      expect(w.ci!.low).toBeLessThan(w.mean!);
      // The theory is a figure too: constant over seeds, so its interval has no width.
      expect(p.figures.theoryMeanWait!.sd).toBe(0);
    }
    expect(r.points[1]!.figures.meanWait!.mean!).toBeLessThan(r.points[0]!.figures.meanWait!.mean!);
    // Same options, same result, byte for byte.
    expect(JSON.stringify(sweep(mmc, options))).toBe(JSON.stringify(r));
  });

  it('shards merged give the whole sweep, byte for byte, and resumed runs are not run again', () => {
    const whole = sweep(mmc, options);
    const shards: SweepShard[] = [1, 2, 3].map((index) => {
      const runs: SweepRun[] = [];
      const r = sweep(mmc, { ...options, shard: { index, count: 3 }, onRun: (run) => runs.push(run) });
      return { kind: 'dsim-sweep-shard', shard: { index, count: 3 }, spec: r.spec, runs };
    });
    expect(shards.map((s) => s.runs.length)).toEqual([4, 4, 4]);
    expect(JSON.stringify(mergeSweeps(shards))).toBe(JSON.stringify(whole));
    // A sweep resumed with 5 runs done runs only the other 7 and gives the same result.
    const done = shards.flatMap((s) => s.runs).slice(0, 5);
    let ran = 0;
    const resumed = sweep(mmc, { ...options, done, onRun: () => ran++ });
    expect(ran).toBe(7);
    expect(JSON.stringify(resumed)).toBe(JSON.stringify(whole));
  });

  it('merge refuses shards of another sweep, twice the same shard, or a missing one', () => {
    const shard = (index: number, count: number, seeds = options.seeds) => {
      const runs: SweepRun[] = [];
      const r = sweep(mmc, { ...options, seeds, shard: { index, count }, onRun: (run) => runs.push(run) });
      return { kind: 'dsim-sweep-shard', shard: { index, count }, spec: r.spec, runs } as SweepShard;
    };
    const a = shard(1, 2);
    expect(() => mergeSweeps([a, shard(2, 2, [1, 2, 3])])).toThrow(/shard 2\/2 is of another sweep/);
    expect(() => mergeSweeps([a, a])).toThrow(/shard 1\/2 is given twice/);
    expect(() => mergeSweeps([a])).toThrow(/shards 2\/2 are missing/);
  });

  it('--precision adds seeds to a point until its interval is narrow enough', () => {
    const r = sweep(mmc, {
      ...options,
      seeds: [1, 2, 3],
      precision: { figure: 'meanWait', relative: 0.2, maxSeeds: 60 },
    });
    for (const p of r.points) {
      const ci = p.figures.meanWait!.ci!;
      expect(p.n).toBeGreaterThan(3);
      expect(ci.relativeHalfWidth!).toBeLessThanOrEqual(0.2);
    }
    // Each point stops on its own: the lighter load has the smaller mean wait, and the relative
    // precision is harder to reach there.
    expect(r.points[1]!.n).toBeGreaterThan(r.points[0]!.n);
  });

  it('bad options are errors naming the field', () => {
    expect(() => sweep(mmc, { ...options, confidence: 1.5 })).toThrow(
      /confidence must be a number in \(0, 1\), got 1\.5/,
    );
    expect(() => sweep(mmc, { ...options, grid: { server: [2, 3] } })).toThrow(
      /mmc has no parameter "server"/,
    );
    expect(() => sweep(mmc, { ...options, grid: { servers: [2, -1] } })).toThrow(/servers/);
    expect(() => sweep(mmc, { ...options, shard: { index: 3, count: 2 } })).toThrow(
      /shard must be whole numbers/,
    );
    expect(() => sweep(mmc, { ...options, seeds: [] })).toThrow(/seeds must be at least one seed/);
    expect(() => sweep(mmc, { ...options, sedes: [1] } as never)).toThrow(/sedes/);
  });
});

describe('dsim sweep and dsim merge', () => {
  const base = [
    'sweep',
    'mmc',
    '--seeds',
    '1..6',
    '--set',
    'servers=2,3',
    '--set',
    'lambda=1.5',
    '--set',
    'customers=400',
  ];

  it('prints a table, writes JSON and CSV, and the reproduce line runs as printed', async () => {
    const r = await cli(...base, '--csv', at('s.csv'), '--out', at('s.json'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/servers=2\s+6\s+meanWait\s+\d/);
    const reproduce = /reproduce: (.*)/.exec(r.stdout)![1]!;
    expect(reproduce).toBe(
      'dsim sweep mmc --seeds 1..6 --set servers=2,3 --set lambda=1.5 --set customers=400',
    );
    const again = await cli(...reproduce.split(' ').slice(1), '--json');
    const saved = JSON.parse(readFileSync(at('s.json'), 'utf8'));
    expect(JSON.parse(again.stdout)).toEqual(saved);
    const csv = readFileSync(at('s.csv'), 'utf8').split('\n');
    expect(csv[0]).toBe('servers,figure,n,mean,sd,ci_low,ci_high,min,p50,p90,max');
    expect(csv.some((l) => l.startsWith('3,meanWait,6,'))).toBe(true);
  });

  it('shards on the command line (and from a Kubernetes indexed job) merge into the whole result', async () => {
    const whole = JSON.parse((await cli(...base, '--json')).stdout);
    expect((await cli(...base, '--shard', '1/2', '--out', at('a.json'))).code).toBe(0);
    let stderr = '';
    const k8s = await main([...base, '--out', at('b.json')], {
      stdout: () => {},
      stderr: (t) => (stderr += t),
      env: { JOB_COMPLETION_INDEX: '1', JOB_COMPLETIONS: '2' },
    });
    expect(k8s, stderr).toBe(0);
    const merged = await cli('merge', at('a.json'), at('b.json'), '-o', at('m.json'));
    expect(merged.code).toBe(0);
    const m = JSON.parse(readFileSync(at('m.json'), 'utf8'));
    const { reproduce: _r, ...rest } = whole;
    expect(m).toEqual(rest);
  });

  it.each([
    [['--seeds', '5..1'], /--seeds/],
    [['--set', 'servers=3..2:1'], /servers/],
    [['--shard', '3/2'], /--shard must be K\/N with 1 <= K <= N/],
    [['--precision', '2'], /--precision must be a percentage such as 2%/],
    [['--precision', '2%'], /--precision needs --figure NAME/],
    [['--confidence', '95'], /--confidence must be a number in \(0, 1\)/],
    [['--set', 'server=2,3'], /no parameter "server"/],
    [['--seds', '1'], /unknown option --seds for 'sweep' \(did you mean --seeds\?\)/],
  ])('bad input %j exits 2 with a clear message', async (extra, message) => {
    const r = await cli(...base, ...extra);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('resumes after SIGKILL: no run lost or repeated, the same result as an uninterrupted sweep', async () => {
    const args = ['sweep', 'mmc', '--seeds', '1..40', '--set', 'servers=2', '--set', 'customers=3000'];
    const whole = JSON.parse((await cli(...args, '--json')).stdout);
    const out = at('killed.json');
    const runs = `${out}.runs.ndjson`;
    const child = spawn(
      resolve(import.meta.dirname, '../../../node_modules/.bin/tsx'),
      ['--conditions', '@dsim/source', resolve(import.meta.dirname, '../src/cli.ts'), ...args, '--out', out],
      { stdio: 'ignore' },
    );
    // Kill it once a few runs are on disk, long before it finishes.
    await new Promise<void>((done, fail) => {
      const started = process.hrtime.bigint();
      const poll = setInterval(() => {
        const lines = existsSync(runs) ? readFileSync(runs, 'utf8').split('\n').length - 1 : 0;
        if (lines >= 5) {
          child.kill('SIGKILL');
          clearInterval(poll);
          done();
        } else if (process.hrtime.bigint() - started > 60_000_000_000n) {
          child.kill('SIGKILL');
          clearInterval(poll);
          fail(new Error('the sweep wrote no runs in 60 s'));
        }
      }, 5);
    });
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(out)).toBe(false); // killed: no result written
    const before = readFileSync(runs, 'utf8').trim().split('\n').length;
    expect(before).toBeGreaterThanOrEqual(5);
    expect(before).toBeLessThan(40);
    // A torn last line, as a kill mid-write leaves, is ignored.
    writeFileSync(runs, `${readFileSync(runs, 'utf8')}{"point":"servers=2","repl`);
    const resumed = await cli(...args, '--out', out, '--json');
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toEqual(whole);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(whole);
  }, 120_000);
});

describe('vitest matchers on sweeps', () => {
  it('toHaveMeanBelow / toHaveMeanAbove use the one-sided bound at the given confidence', () => {
    const r = sweep(mmc, options);
    const w = r.points[1]!.figures.meanWait!;
    // The upper 95% bound of servers=3's mean wait sits between its mean and twice it.
    expect(r).toHaveMeanBelow('meanWait', 2 * w.mean!, { point: 'servers=3' });
    expect(r).not.toHaveMeanBelow('meanWait', w.mean!, { point: 'servers=3' });
    expect(r).toHaveMeanAbove('meanWait', 0);
    // A higher confidence widens the bound: just above the 80% bound is not enough at 99.9%.
    const t80 = (w.ci!.high - w.mean!) * 0.5;
    expect(r).not.toHaveMeanBelow('meanWait', w.mean! + t80, { point: 'servers=3', confidence: 0.999 });
    expect(() => expect(r).toHaveMeanBelow('meanWiat', 1)).toThrow(/no figure "meanWiat"/);
    expect(() => expect(r).toHaveMeanBelow('meanWait', 1, { point: 'servers=9' })).toThrow(
      /no point "servers=9"/,
    );
    expect(() => expect(r).toHaveMeanBelow('meanWait', 1)).toThrow(/upper bounds: servers=2: \d/);
  });
});

describe('worker threads', () => {
  it('gives the same result, byte for byte, for 1, 2 and 4 workers (and the in-thread sweep)', async () => {
    const one = JSON.stringify(sweep(mmc, options));
    for (const workers of [1, 2, 4]) {
      const r = await sweepInWorkers('mmc', mmc, options, workers);
      expect(JSON.stringify(r), `${workers} workers`).toBe(one);
    }
    // Precision rounds in parallel take the same replications as one at a time.
    const precise = {
      ...options,
      seeds: [1, 2, 3],
      precision: { figure: 'meanWait', relative: 0.2, maxSeeds: 40 },
    };
    expect(JSON.stringify(await sweepInWorkers('mmc', mmc, precise, 2))).toBe(
      JSON.stringify(sweep(mmc, precise)),
    );
  }, 120_000);

  it('--workers is checked', async () => {
    const r = await cli('sweep', 'mmc', '--seeds', '1..2', '--workers', '0');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--workers must be a whole number from 1 to 1024, got "0"/);
  });
});

describe('dsim sweep --find', () => {
  it('finds the smallest server count meeting a mean wait target, with its bracket', async () => {
    const r = await cli(
      'sweep',
      'mmc',
      '--find',
      'smallest servers in 1..32 where meanWait < 100',
      '--seeds',
      '1..5',
      '--set',
      'lambda=4',
      '--set',
      'customers=5000',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.answer).toBe(7); // Erlang C: 142 ms at 6 servers, 45 ms at 7
    expect(doc.bracket).toEqual({ holds: 7, fails: 6 });
    expect(doc.reproduce).toMatch(/--find 'smallest servers in 1\.\.32 where meanWait < 100'$/);
  });

  it.each([
    [
      ['--find', 'smallest servers in 1..32 where meanWait < 100', '--set', 'servers=3'],
      /do not also --set it/,
    ],
    [
      ['--find', 'smallest servers in 1..32 where meanWait < 100', '--set', 'lambda=1,2'],
      /--find searches servers alone/,
    ],
    [
      ['--find', 'smallest servers in 1..32 where meanWait < 100', '--shard', '1/2'],
      /--shard does not go with --find/,
    ],
    [['--find', 'biggest servers in 1..32 where meanWait < 100'], /--find/],
    [['--tolerance', '0.1'], /--tolerance goes with --find/],
  ])('bad input %j exits 2', async (extra, message) => {
    const r = await cli('sweep', 'mmc', '--seeds', '1..3', ...extra);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('the sweep report', () => {
  const hostile = resolve(import.meta.dirname, 'fixtures/hostile.scenario.ts');

  it('charts every varying figure with its band; dsim report on the saved sweep writes the same page', async () => {
    const r = await cli(
      ...[
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
      ],
      '--report',
      at('s.html'),
      '--out',
      at('saved.json'),
    );
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(at('s.html'), 'utf8');
    const data = JSON.parse(
      /<script type="application\/json" id="dsim-sweep">(.*?)<\/script>/s.exec(html)![1]!,
    );
    const wait = data.charts.find((c: { figure: string }) => c.figure === 'meanWait');
    expect(wait.x).toEqual([2, 3, 4]);
    expect(wait.lines).toHaveLength(1);
    const saved = JSON.parse(readFileSync(at('saved.json'), 'utf8'));
    const p3 = saved.points.find((p: { id: string }) => p.id === 'servers=3').figures.meanWait;
    // Six significant digits on the page.
    expect(Math.abs(wait.lines[0].mean[1] - p3.mean) / p3.mean).toBeLessThan(1e-5);
    expect(Math.abs(wait.lines[0].low[1] - p3.ci.low) / p3.ci.low).toBeLessThan(1e-5);
    // Constant figures (customers) are not charted.
    expect(data.charts.some((c: { figure: string }) => c.figure === 'customers')).toBe(false);
    expect((await cli('report', at('saved.json'), '-o', at('again.html'))).code).toBe(0);
    expect(readFileSync(at('again.html'), 'utf8')).toBe(html);
  });

  it('shows markup in swept values as text', async () => {
    const r = await cli(
      'sweep',
      hostile,
      '--seeds',
      '1..2',
      '--set',
      'label=<b>x</b>,<i>y</i>',
      '--workers',
      '1',
      '--report',
      at('h.html'),
    );
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(at('h.html'), 'utf8');
    expect(html).not.toMatch(/<b>x|<i>y/);
    expect(html).toContain('&#60;b&#62;x&#60;/b&#62;');
    expect(html.match(/<script/g)).toHaveLength(3);
  });
});

describe('steady-state figures (MSER-5 on each run)', () => {
  // M/M/1 at ρ = 0.8 as a system: 80/s Poisson into one server at 100/s. Lq = ρ²/(1 − ρ) = 3.2.
  const mm1 = defineSystemScenario({
    name: 'mm1-steady',
    description: 'M/M/1 at 0.8',
    system: {
      nodes: {
        users: { kind: 'clients', target: 'server', workload: { kind: 'open', rate: 80 }, until: '200s' },
        server: { kind: 'service', serviceTime: { exponential: { mean: 10 } } },
      },
    },
  });

  it('the queue length with the warm-up cut matches Lq, and the arrival rate the offered load', () => {
    const r = sweep(mm1, {
      seeds: Array.from({ length: 12 }, (_, i) => i + 1),
      steady: ['server/svc.queue', 'server/svc.arrived'],
    });
    const q = r.points[0]!.figures['steady.server/svc.queue']!;
    expect(q.n).toBe(12);
    expect(q.ci!.low).toBeLessThan(3.2 * 1.15);
    expect(q.ci!.high).toBeGreaterThan(3.2 * 0.85);
    expect(Math.abs(q.mean! - 3.2) / 3.2).toBeLessThan(0.15);
    const rate = r.points[0]!.figures['steady.server/svc.arrived']!;
    expect(Math.abs(rate.mean! - 80) / 80).toBeLessThan(0.02);
    // MSER-5 cuts little from a run that reaches steady state quickly (the median cut is seconds), though
    // on a strongly autocorrelated series it can reach its half-run limit in some replications.
    expect(r.points[0]!.figures['steady.server/svc.queue.cutMs']!.p50).toBeLessThan(40_000);
  });

  it('an unknown series is an error listing what the run recorded', () => {
    expect(() => sweep(mm1, { seeds: [1], steady: ['server/svc.qeue'] })).toThrow(
      /steady: no counter or gauge "server\/svc\.qeue"; recorded: .*server\/svc\.queue/,
    );
  });
});

describe('progress', () => {
  const args = ['sweep', 'mmc', '--seeds', '1..4', '--set', 'customers=200', '--workers', '1'];
  it('draws runs done, running and the time left on a terminal, nothing on a pipe', async () => {
    let tty = '';
    expect(await main(args, { stdout: () => {}, stderr: (t) => (tty += t), stderrIsTTY: true })).toBe(0);
    expect(tty).toMatch(/\rdsim sweep: 1\/4 runs, 1 running, ETA \d+ s/);
    expect(tty).toMatch(/\rdsim sweep: 4\/4 runs {3}\n$/);
    let pipe = '';
    expect(await main(args, { stdout: () => {}, stderr: (t) => (pipe += t) })).toBe(0);
    expect(pipe).toBe('');
  });
});
