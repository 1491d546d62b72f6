// `dsim sweep --queue` and `dsim worker` against a real Redis: Debian's redis-server, started here on a
// free port in a temp dir. Without redis-server these tests are skipped with a note, except under CI,
// where they fail (.ci/run installs it).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mmc } from '../src/catalogue/mmc.js';
import { main } from '../src/cli-main.js';
import { sweepJobId, sweepQueueName } from '../src/sweep/queue.js';
import type { SweepRun } from '../src/sweep/run-point.js';
import { type SweepOptions, SweepPlan, sweep } from '../src/sweep/sweep.js';

const REDIS = process.env.DSIM_REDIS_SERVER ?? '/usr/bin/redis-server';
const available = existsSync(REDIS);
const onCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const root = resolve(import.meta.dirname, '../../..');

if (!available && !onCi)
  console.warn(
    `sweep-queue tests skipped: no redis-server at ${REDIS}. Enable them with 'apt-get install redis-server' (or set DSIM_REDIS_SERVER to a redis-server binary).`,
  );

describe.runIf(!available && onCi)('sweep on a Redis queue (CI)', () => {
  it('needs redis-server under CI', () => {
    throw new Error(
      `no redis-server at ${REDIS}: CI must run the queue tests (.ci/run installs it with 'apt-get install redis-server'; or set DSIM_REDIS_SERVER)`,
    );
  });
});

async function cli(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env });
  return { code, stdout, stderr };
}

/** A port nothing listens on (the OS picks it; closed again at once). */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('--queue and dsim worker: input checks', () => {
  it.each([
    ['http://localhost:6379', /--queue must be a Redis URL redis:\/\/.*got "http:\/\/localhost:6379"/],
    [
      'redis://localhost:99999/0',
      /--queue must be a Redis URL whose port is .*99999.*got "redis:\/\/localhost:99999\/0"/,
    ],
    [
      'redis://localhost:6379/x',
      /--queue must be a Redis URL whose database is .*"x".*got "redis:\/\/localhost:6379\/x"/,
    ],
    ['redis://:secret@localhost:6379/db1', /got "redis:\/\/:\*\*\*@localhost:6379\/db1"/],
  ])('a bad URL %s exits 2 naming the flag and the value', async (url, message) => {
    const r = await cli(['sweep', 'mmc', '--seeds', '1..2', '--queue', url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/secret/);
    const w = await cli(['worker', '--queue', url]);
    expect(w.code).toBe(2);
    expect(w.stderr).toMatch(message);
  });

  it('--queue does not go with --shard, --workers or --find; worker needs --queue', async () => {
    const q = ['sweep', 'mmc', '--seeds', '1..2', '--queue', 'redis://localhost:6379/0'];
    let r = await cli([...q, '--shard', '1/2']);
    expect([r.code, r.stderr]).toEqual([
      2,
      expect.stringMatching(/--queue does not go with --shard: the queue/),
    ]);
    r = await cli(q, { JOB_COMPLETION_INDEX: '0', JOB_COMPLETIONS: '2' });
    expect(r.stderr).toMatch(/--queue does not go with --shard \(JOB_COMPLETION_INDEX is set\)/);
    r = await cli([...q, '--workers', '2']);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/--queue does not go with --workers/)]);
    r = await cli([...q, '--find', 'smallest servers in 1..8 where meanWait < 100']);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/--queue does not go with --find/)]);
    r = await cli(['worker']);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/'worker' needs --queue URL/)]);
    r = await cli(['worker', '--queue', 'redis://localhost', '--concurrency', '0']);
    expect(r.stderr).toMatch(/--concurrency must be a whole number from 1 to 1024, got "0"/);
    r = await cli(['worker', '--queue', 'redis://localhost', '--stalled-interval', '30']);
    expect(r.stderr).toMatch(/--stalled-interval must be a duration .* got "30"/);
  });

  it('a Redis nobody answers at is an error naming the URL, after a bounded wait', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}/0`;
    const started = process.hrtime.bigint();
    const r = await cli(['sweep', 'mmc', '--seeds', '1..2', '--queue', url], {
      DSIM_QUEUE_CONNECT_TIMEOUT: '1s',
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--queue: cannot reach Redis at ${url} within 1 s (connect ECONNREFUSED`);
    expect(seconds).toBeGreaterThanOrEqual(0.9);
    expect(seconds).toBeLessThan(10);
  });
});

describe.runIf(available)('sweep on a Redis queue, run by dsim workers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsim-sweep-queue-'));
  let redis: ChildProcess | undefined;
  let url = '';
  let client: Redis | undefined;
  const queues: Queue[] = [];
  const workers: { child: ChildProcess; log: string; name: string }[] = [];

  /** A `dsim worker` process from the sources, with short lock and stalled-check intervals. */
  function startWorker() {
    const child = spawn(
      join(root, 'node_modules/.bin/tsx'),
      [
        '--conditions',
        '@dsim/source',
        'packages/scenarios/src/cli.ts',
        'worker',
        '--queue',
        url,
        '--concurrency',
        '1',
        '--lock-duration',
        '2s',
        '--stalled-interval',
        '1s',
      ],
      { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const w = { child, log: '', name: '' };
    // The worker's name (host:pid, stored on each job it takes) is the first thing it logs. tsx runs
    // it in a child process of its own: that pid is the one to SIGKILL (tsx cannot pass SIGKILL on).
    child.stderr!.on('data', (d: Buffer) => {
      w.log += d.toString();
      w.name ||= /^dsim worker (\S+): serving/m.exec(w.log)?.[1] ?? '';
    });
    workers.push(w);
    return w;
  }

  const pidOf = (w: { name: string }) => Number(w.name.slice(w.name.lastIndexOf(':') + 1));

  async function until(what: string, ok: () => boolean | Promise<boolean>, seconds = 30) {
    for (let i = 0; i < seconds * 50; i++) {
      if (await ok()) return;
      await sleep(20);
    }
    throw new Error(`timed out waiting for ${what}; worker logs:\n${workers.map((w) => w.log).join('\n')}`);
  }

  beforeAll(async () => {
    const port = await freePort();
    redis = spawn(
      REDIS,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      {
        stdio: 'ignore',
      },
    );
    url = `redis://127.0.0.1:${port}/0`;
    client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => 50 });
    client.on('error', () => {});
    await until('redis-server', () =>
      client!.ping().then(
        (p) => p === 'PONG',
        () => false,
      ),
    );
    startWorker();
    startWorker();
    await until('the workers', () => workers.every((w) => w.log.includes('serving the sweeps')), 40);
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(queues.map((q) => q.close()));
    client?.disconnect();
    for (const w of workers)
      if (w.child.exitCode === null && w.child.signalCode === null) {
        try {
          process.kill(pidOf(w), 'SIGKILL');
        } catch {}
        w.child.kill('SIGKILL');
      }
    redis?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** Two server counts × 8 seeds: 16 runs of about 0.2 s each. */
  const options: SweepOptions = {
    seeds: [1, 2, 3, 4, 5, 6, 7, 8],
    grid: { servers: [2, 3] },
    set: { lambda: 1.5, customers: 30_000 },
  };
  const args = [
    'sweep',
    'mmc',
    '--seeds',
    '1..8',
    '--set',
    'servers=2,3',
    '--set',
    'lambda=1.5',
    '--set',
    'customers=30000',
  ];
  const local = () => JSON.stringify(sweep(mmc, options));
  const withoutReproduce = (stdout: string) => {
    const { reproduce: _r, ...result } = JSON.parse(stdout);
    return JSON.stringify(result);
  };

  it('two workers, one SIGKILLed mid-run: every run once, the result byte for byte a local one', async () => {
    const name = sweepQueueName(new SweepPlan(mmc, options).spec);
    const queue = new Queue(name, { connection: { host: '127.0.0.1', port: Number(new URL(url).port) } });
    queues.push(queue);
    const out = join(dir, 'sweep.json');
    const started = process.hrtime.bigint();
    const running = cli([...args, '--queue', url, '--out', out, '--json']);
    // Kill one worker in the middle of a run: its job is active, taken by it under 60 ms ago (a run
    // takes some 200 ms), and other runs are done already.
    const [victim, survivor] = workers as [(typeof workers)[0], (typeof workers)[0]];
    let killed: { job: string; completed: number; atSeconds: number } | undefined;
    await until('a run of the worker to kill', async () => {
      const completed = await queue.getCompletedCount();
      if (completed < 3) return false;
      const mine = (await queue.getActive()).find(
        (j) =>
          j.processedBy === victim.name && j.processedOn !== undefined && Date.now() - j.processedOn < 60,
      );
      if (mine === undefined) return false;
      process.kill(pidOf(victim), 'SIGKILL');
      killed = {
        job: mine.id!,
        completed,
        atSeconds: Number(process.hrtime.bigint() - started) / 1e9,
      };
      return true;
    });
    const r = await running;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`dsim sweep: 16 runs on queue ${name} at ${url}`);
    expect(withoutReproduce(r.stdout)).toBe(local());
    expect(withoutReproduce(readFileSync(out, 'utf8'))).toBe(local());
    // Every (point, replication) recorded once, and all 16 there.
    const runs = readFileSync(`${out}.runs.ndjson`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as SweepRun);
    const ids = runs.map((x) => sweepJobId(x.point, x.replication)).sort();
    expect(ids).toEqual(
      ['servers=2', 'servers=3'].flatMap((p) => [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `${p}#${i}`)).sort(),
    );
    // The killed worker's run went back to waiting (BullMQ's stalled check) and the other worker ran it.
    const job = await Job.fromId(queue, killed!.job);
    expect(job!.processedBy).toBe(survivor.name);
    expect(job!.stalledCounter).toBeGreaterThanOrEqual(1);
    expect(victim.log).not.toContain(`${killed!.job} done`);
    expect(survivor.log).toContain(`${killed!.job} done`);
    // Each run finished once over both workers.
    const done = (workers[0]!.log + workers[1]!.log).match(/ done in /g) ?? [];
    expect(done.length).toBe(16);
    console.info(
      `sweep-queue: 16 runs on 2 workers, one SIGKILLed at ${killed!.atSeconds.toFixed(1)} s during ${killed!.job} (${killed!.completed} runs done then); the sweep took ${seconds.toFixed(1)} s`,
    );
  }, 60_000);

  it('precision rounds go on the queue one after the other and give the local result; sweeps do not mix', async () => {
    const precise: SweepOptions = {
      seeds: [1, 2, 3],
      grid: { servers: [2, 3] },
      set: { lambda: 1.5, customers: 400 },
      precision: { figure: 'meanWait', relative: 0.2, maxSeeds: 20 },
    };
    const r = await cli([
      'sweep',
      'mmc',
      '--seeds',
      '1..3',
      '--set',
      'servers=2,3',
      '--set',
      'lambda=1.5',
      '--set',
      'customers=400',
      '--precision',
      '20%',
      '--figure',
      'meanWait',
      '--max-seeds',
      '20',
      '--queue',
      url,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const want = sweep(mmc, precise);
    expect(want.runs).toBeGreaterThan(6);
    expect(withoutReproduce(r.stdout)).toBe(JSON.stringify(want));
    const name = sweepQueueName(new SweepPlan(mmc, precise).spec);
    expect(name).not.toBe(sweepQueueName(new SweepPlan(mmc, options).spec));
    // The sweeps' queues are told apart: none is waited for any more.
    expect(await client!.smembers('dsim:sweeps')).toEqual([]);
  }, 60_000);

  it('stopped workers finish in peace; the same command again collects its finished jobs, running none', async () => {
    const alive = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    expect(alive.length).toBe(1);
    const exited = new Promise<number | null>((r) => alive[0]!.child.once('exit', (code) => r(code)));
    alive[0]!.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(alive[0]!.log).toContain('SIGTERM: finishing the runs in progress');
    // No worker is left: the result can only come from the jobs kept on the queue.
    const r = await cli([...args, '--queue', url, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(withoutReproduce(r.stdout)).toBe(local());
  }, 60_000);
});
