import { describe, expect, it } from 'vitest';
import { capacityPlanning } from '../src/catalogue/capacity-planning.js';
import { main } from '../src/cli-main.js';
import { runScenario } from '../src/scenario.js';

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

/** The worked example of docs/cli.md and docs/fundamentals.md. */
const EXAMPLE = [
  'estimate',
  '--users',
  '10M',
  '--requests-per-user',
  '20',
  '--peak-factor',
  '3',
  '--reads-per-write',
  '9:1',
  '--request-bytes',
  '1KB',
  '--response-bytes',
  '10KB',
  '--retention',
  '5y',
  '--replication',
  '3',
  '--service-time',
  '20ms',
  '--workers',
  '8',
  '--target-utilization',
  '70%',
];

describe('dsim estimate', () => {
  it('prints the worked table of docs/cli.md', async () => {
    const r = await cli(...EXAMPLE);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        'quantity                formula                                               worked                 value',
        'average QPS             users × requestsPerUser / 86 400 s                    10M × 20 / 86 400 s    2315 req/s',
        'peak QPS                average QPS × peakFactor                              2315 × 3               6944 req/s',
        'peak write QPS          peak QPS × writeShare                                 6944 × 1 / (1 + 9)     694.4 req/s',
        'peak read QPS           peak QPS × (1 − writeShare)                           6944 − 694.4           6250 req/s',
        'peak ingress            peak QPS × requestBytes                               6944 × 1k B            6.94 MB/s (55.6 Mbit/s)',
        'peak egress             peak QPS × responseBytes                              6944 × 10k B           69.4 MB/s (556 Mbit/s)',
        'storage per day         users × requestsPerUser × writeShare × bytesPerWrite  10M × 20 × 0.1 × 1k B  20 GB',
        'storage over retention  storage per day × retention (days) × replication      20 GB × 1825 × 3       110 TB',
        'server capacity         workers / serviceTime                                 8 / 20 ms              400 req/s',
        'servers at peak         ⌈peak QPS / (server capacity × targetUtilization)⌉    ⌈6944 / (400 × 0.7)⌉   25 servers',
        'utilisation at peak     peak QPS / (servers × server capacity)                6944 / (25 × 400)      69.4%',
        '',
      ].join('\n'),
    );
  });

  it('--json prints one document with the figures, the inputs and the rows', async () => {
    const r = await cli(...EXAMPLE, '--json');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.averageQps).toBeCloseTo(2314.815, 3);
    expect(doc.peakQps).toBeCloseTo(6944.444, 3);
    expect(doc.retainedBytes).toBeCloseTo(1.095e14, -9);
    expect(doc.servers).toBe(25);
    expect(doc.inputs).toMatchObject({
      users: 1e7,
      readsPerWrite: 9,
      writeShare: 0.1,
      requestBytes: 1000,
      retention: '5y',
    });
    expect(doc.rows).toHaveLength(11);
    expect(doc.rows[0]).toEqual({
      quantity: 'average QPS',
      formula: 'users × requestsPerUser / 86 400 s',
      worked: '10M × 20 / 86 400 s',
      value: 200_000_000 / 86_400,
      unit: 'req/s',
      display: '2315 req/s',
    });
  });

  it('reads SI and binary suffixes, percents, ratios, weeks and years', async () => {
    const r = await cli(
      'estimate',
      '--users',
      '1.5k',
      '--requests-per-user',
      '2_000',
      '--peak-factor',
      '1',
      '--write-share',
      '25%',
      '--bytes-per-write',
      '4KiB',
      '--retention',
      '2w',
      '--server-capacity',
      '1e1',
      '--json',
    );
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.inputs).toMatchObject({
      users: 1500,
      requestsPerUser: 2000,
      writeShare: 0.25,
      bytesPerWrite: 4096,
    });
    expect(doc.storagePerDayBytes).toBe(1500 * 2000 * 0.25 * 4096);
    expect(doc.retainedBytes).toBe(1500 * 2000 * 0.25 * 4096 * 14);
    expect(doc.servers).toBe(Math.ceil((1500 * 2000) / 86_400 / (10 * 0.7)));
  });

  it('help lists the command and its options', async () => {
    const r = await cli('help');
    expect(r.stdout).toContain('dsim estimate --users N --requests-per-user N --peak-factor F [options]');
    expect(r.stdout).toMatch(/--requests-per-user V\s+requests a user makes a day/);
    expect(r.stdout).toMatch(/--target-utilization V\s+busy share at the peak/);
  });
});

describe('dsim estimate: bad flags exit 2 naming the flag', () => {
  it.each([
    [
      ['--users', '10M', '--requests-per-user', '20', '--peak-factr', '3'],
      "unknown option --peak-factr for 'estimate' (did you mean --peak-factor?)",
    ],
    [
      ['--users', 'ten', '--requests-per-user', '20', '--peak-factor', '3'],
      '--users must be a number, with an optional SI suffix k, M, G or T (10M, 1.5k, 2500000), got "ten"',
    ],
    [
      ['--users', '10m', '--requests-per-user', '20', '--peak-factor', '3'],
      '--users must be a number, with an optional SI suffix k, M, G or T (10M, 1.5k, 2500000), got "10m"',
    ],
    [
      ['--users', '10M', '--requests-per-user', '20', '--peak-factor', '0.5'],
      '--peak-factor must be the peak over the average rate, a finite number >= 1, got 0.5',
    ],
    [
      ['--users', '10M', '--requests-per-user', '20', '--peak-factor', '3', '--retention', '5'],
      '--retention must be a duration with a unit: d (days), w (weeks) or y (365-day years), e.g. 30d, 12w, 5y, got "5"',
    ],
    [
      ['--users', '10M', '--requests-per-user', '20', '--peak-factor', '3', '--retention', '5y'],
      '--retention must be given with the writes (writeShare or readsPerWrite) and their size (bytesPerWrite or requestBytes), got "5y"',
    ],
    [
      ['--users', '10M', '--requests-per-user', '20', '--peak-factor', '3', '--request-bytes', '1XB'],
      '--request-bytes must be a size in bytes, with an optional unit (512, 1KB, 1.5MB, 4KiB, 1GiB), got "1XB"',
    ],
    [
      ['--users', '10M', '--requests-per-user', '20', '--peak-factor', '3', '--workers', '8'],
      '--workers must be given with serviceTime (capacity = workers / serviceTime), got 8',
    ],
    [
      ['--users', '10M', '--requests-per-user', '20'],
      "'estimate' needs --users, --requests-per-user and --peak-factor (missing --peak-factor)",
    ],
    [
      ['--users', '10M', '--users', '20M', '--requests-per-user', '20', '--peak-factor', '3'],
      '--users is given 2 times ("10M", "20M"); give it once',
    ],
    [
      ['--users', '10M', '--requests-per-user', '20', '--peak-factor', '3', 'extra'],
      '\'estimate\' takes no argument "extra"',
    ],
  ])('%j', async (args, message) => {
    const r = await cli('estimate', ...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`dsim: ${message}`);
  });

  it('a misspelt command suggests estimate', async () => {
    const r = await cli('estimat');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "estimat" (did you mean "estimate"?)');
  });
});

describe("the estimate's server count, checked against a simulation of the same numbers", () => {
  /** Simulates `replicas` one-worker servers at `peakQps` (20 ms each) behind one shared queue. */
  const simulate = (peakQps: number, replicas: number) =>
    runScenario(capacityPlanning, {
      seed: 1,
      variants: ['shared-queue'],
      params: { peakQps, serviceMs: 20, replicas, requests: 10_000 },
    }).variants[0]!.outcome;

  /** 4 standard deviations of a utilisation measured over 10 000 requests (see the scenario). */
  const tolerance = (rho: number) => 4 * rho * Math.sqrt(2 / 10_000);

  it('at 70%: 10 servers run at 69% and stay stable; 9 run over the target', async () => {
    const r = await cli(
      'estimate',
      '--users',
      '1M',
      '--requests-per-user',
      '10',
      '--peak-factor',
      '3',
      '--service-time',
      '20ms',
      '--json',
    );
    const e = JSON.parse(r.stdout);
    expect(e.servers).toBe(10); // 347.2 req/s / (50 × 0.7) = 9.92
    const at = simulate(e.peakQps, e.servers);
    expect(Math.abs((at.utilization as number) - e.peakUtilization)).toBeLessThan(tolerance(0.7));
    expect(at.utilization as number).toBeLessThanOrEqual(0.7 + tolerance(0.7));
    expect(at.backlog as number).toBeLessThan(30); // a stable queue: a handful in the system at the end
    const fewer = simulate(e.peakQps, e.servers - 1);
    expect(fewer.utilization as number).toBeGreaterThan(0.7 + tolerance(0.7)); // 0.772 by theory
  });

  it('at 95%: 7 servers run at 89% and stay stable; 6 are overloaded and the queue grows', async () => {
    const r = await cli(
      'estimate',
      '--users',
      '1M',
      '--requests-per-user',
      '10',
      '--peak-factor',
      '2.7',
      '--service-time',
      '20ms',
      '--target-utilization',
      '0.95',
      '--json',
    );
    const e = JSON.parse(r.stdout);
    expect(e.peakQps).toBeCloseTo(312.5, 9);
    expect(e.servers).toBe(7); // 312.5 / 47.5 = 6.58
    const at = simulate(e.peakQps, e.servers);
    expect(Math.abs((at.utilization as number) - 312.5 / 350)).toBeLessThan(tolerance(0.9));
    expect(at.stable).toBe(true);
    expect(at.backlog as number).toBeLessThan(100);
    const fewer = simulate(e.peakQps, e.servers - 1); // 312.5 req/s on 300 req/s of capacity
    expect(fewer.stable).toBe(false);
    expect(fewer.utilization as number).toBeGreaterThan(0.97);
    // 10 000 arrivals over 32 s outpace 300/s by 12.5/s: about 400 left waiting when the last arrives
    // (545 measured).
    expect(fewer.backlog as number).toBeGreaterThan(200);
  });
});
