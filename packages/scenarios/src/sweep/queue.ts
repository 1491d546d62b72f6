import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { DsimError, showValue } from '@dsim/core';
import type { ConnectionOptions, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import Tinypool from 'tinypool';
import type { ParamSchema } from '../params.js';
import type { Outcome, Scenario } from '../scenario.js';
import type { SweepResult } from './aggregate.js';
import { defaultWorkers } from './pool.js';
import type { SweepRun } from './run-point.js';
import type { SweepSpec } from './spec.js';
import { type SweepOptions, SweepPlan, type SweepTask } from './sweep.js';
import type { WorkerTask } from './worker.js';

/**
 * A Redis server named by a `redis://` or `rediss://` URL, checked: `redis://[user:password@]host[:port][/db]`.
 * `display` is the URL with the password masked, for messages.
 */
export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  /** `rediss://`: TLS. */
  tls: boolean;
  display: string;
}

/** The Redis set where a waiting sweep registers its queue; `dsim worker` serves every queue in it. */
export const SWEEP_REGISTRY = 'dsim:sweeps';

/** How long to wait for Redis to answer before giving up, when not told otherwise. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** BullMQ's lock and stalled-check settings `dsim worker` uses unless told otherwise. */
export const QUEUE_WORKER_DEFAULTS = {
  /** A worker holds a job's lock this long and renews it every half of it. BullMQ's default. */
  lockDurationMs: 30_000,
  /** Every this often a worker moves jobs whose lock expired (their worker died) back to waiting. BullMQ's default. */
  stalledIntervalMs: 30_000,
  /** A job may be moved back this many times; once more and it fails (a run that kills its worker). */
  maxStalledCount: 5,
} as const;

const URL_SHAPE = /^(rediss?):\/\/(?:([^@/?#]*)@)?(\[[^\]]*\]|[^:/?#]*)(?::([^/?#]*))?(?:\/([^?#]*))?$/;

/**
 * Checks a queue URL: `redis://` or `rediss://` (TLS), a host, a port from 1 to 65535 (default 6379) and
 * a database number (default 0); no query. Errors name `field` (the flag) and the value, password
 * masked.
 *
 * @example
 * ```ts
 * parseQueueUrl('redis://redis:6379/0', '--queue'); // { host: 'redis', port: 6379, db: 0, tls: false, ... }
 * ```
 */
export function parseQueueUrl(value: string, field = 'url'): RedisTarget {
  const shown = typeof value === 'string' ? mask(value) : showValue(value);
  const bad = (want: string) =>
    new DsimError('CONFIG_ERROR', `${field} must be ${want}, got ${JSON.stringify(shown)}`, {
      details: { field, value: shown },
    });
  const m = typeof value === 'string' ? URL_SHAPE.exec(value.trim()) : null;
  if (m === null)
    throw bad('a Redis URL redis://[user:password@]host[:port][/db] (or rediss:// for TLS), no query');
  const [, scheme, auth, rawHost, rawPort, rawDb] = m;
  const host = rawHost!.startsWith('[') ? rawHost!.slice(1, -1) : rawHost!;
  if (host === '') throw bad('a Redis URL with a host, such as redis://localhost:6379/0');
  if (rawPort !== undefined && !/^\d{1,5}$/.test(rawPort))
    throw bad(
      `a Redis URL whose port is a whole number from 1 to 65535 (the port is ${JSON.stringify(rawPort)})`,
    );
  const port = rawPort === undefined ? 6379 : Number(rawPort);
  if (!(port >= 1 && port <= 65535))
    throw bad(`a Redis URL whose port is a whole number from 1 to 65535 (the port is ${port})`);
  if (rawDb !== undefined && rawDb !== '' && !/^\d{1,9}$/.test(rawDb))
    throw bad(
      `a Redis URL whose database is a whole number such as /0 (the database is ${JSON.stringify(rawDb)})`,
    );
  const db = rawDb === undefined || rawDb === '' ? 0 : Number(rawDb);
  const out: RedisTarget = { host, port, db, tls: scheme === 'rediss', display: '' };
  if (auth !== undefined && auth !== '') {
    const colon = auth.indexOf(':');
    let user: string;
    let password: string | undefined;
    try {
      user = decodeURIComponent(colon < 0 ? auth : auth.slice(0, colon));
      password = colon < 0 ? undefined : decodeURIComponent(auth.slice(colon + 1));
    } catch {
      throw bad('a Redis URL whose user and password are percent-encoded');
    }
    // redis://:password@host is a password without a user (Redis before ACLs).
    if (user !== '') out.username = user;
    if (password !== undefined) out.password = password;
  }
  out.display = `${scheme}://${out.username === undefined && out.password === undefined ? '' : `${out.username ?? ''}${out.password === undefined ? '' : ':***'}@`}${rawHost}:${port}/${db}`;
  return out;
}

/** The URL with any password replaced by `***`. */
function mask(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:@/?#]*:)[^@/?#]*@/i, '$1***@');
}

/**
 * The BullMQ queue of a sweep: `dsim-sweep-` and 16 hex digits of the SHA-256 of its spec (scenario,
 * fixed and swept parameters, seeds, variants, confidence). Two different sweeps never share a queue; the
 * same command run again finds its jobs.
 *
 * @example
 * ```ts
 * sweepQueueName(new SweepPlan(mmc, { seeds: [1, 2] }).spec); // 'dsim-sweep-…'
 * ```
 */
export function sweepQueueName(spec: SweepSpec): string {
  return `dsim-sweep-${createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16)}`;
}

/**
 * A run's job id: `<point>#<replication>` (`servers=2#0`; `#0` for a sweep without a grid). BullMQ
 * adds a job id once, so a run is enqueued once however often the sweep is started. BullMQ refuses `:`
 * in ids, so `%` and `:` are written `%25` and `%3A`.
 */
export function sweepJobId(point: string, replication: number): string {
  return `${point.replaceAll('%', '%25').replaceAll(':', '%3A')}#${replication}`;
}

/** Options of {@link sweepOnQueue}. */
export interface QueueSweepSettings {
  /** How long to wait for Redis to answer at the start. @default 10 000 ms */
  connectTimeoutMs?: number;
  /** Told the queue's name and how many runs were enqueued, when the first round is on the queue. */
  onQueued?: (info: { queue: string; runs: number; url: string }) => void;
  /** Every this often the pending jobs are looked up, in case a completion event was missed. @default 5000 ms */
  pollMs?: number;
  /** How the URL is named in error messages (the CLI's `--queue`). @default 'url' */
  field?: string;
}

/**
 * Runs a sweep on a BullMQ queue in Redis: each replication is a job (`<point>#<replication>`, on the
 * queue {@link sweepQueueName} gives), run by `dsim worker --queue URL` processes on any machines; this
 * process enqueues them, collects each result as it finishes and aggregates. Precision rounds enqueue
 * the next round once a round is in. The result is the same as {@link sweep}'s, byte for byte: runs are
 * deterministic and aggregated in grid and replication order. A job a killed worker held goes back to
 * waiting (BullMQ's stalled-job check) and is run by another; each run is counted once. Jobs already
 * finished (a rerun of the same sweep) are collected, not run again.
 *
 * `target` is the scenario's name or file as every worker loads it; `scenario` is the same scenario,
 * loaded here to check the parameters before anything is enqueued.
 *
 * @example
 * ```ts
 * const r = await sweepOnQueue('mmc', mmc, { seeds: [1, 2, 3], grid: { servers: [2, 3] } }, 'redis://localhost:6379/0');
 * ```
 */
export async function sweepOnQueue(
  target: string,
  scenario: Scenario<ParamSchema>,
  options: SweepOptions,
  url: string,
  settings: QueueSweepSettings = {},
): Promise<SweepResult> {
  const field = settings.field ?? 'url';
  const redis = parseQueueUrl(url, field);
  const plan = new SweepPlan(scenario, options);
  const name = sweepQueueName(plan.spec);
  const registry = await reachRedis(redis, field, settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  const connection = bullConnection(redis);
  // Loaded here, not at the top: every other dsim command starts without them.
  const { Job, Queue, QueueEvents } = await import('bullmq');
  const queue = new Queue(name, {
    connection,
    defaultJobOptions: {
      attempts: 1,
      // Finished runs stay a day, so the same sweep started again collects them; failed ones until then.
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: false,
    },
  });
  const events = new QueueEvents(name, { connection });
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const fail = (error: Error) => {
    failure ??= error;
    wake?.();
  };
  // Redis going away mid-sweep is waited out (the clients reconnect); these only keep errors from
  // being unhandled.
  queue.on('error', () => {});
  events.on('error', () => {});
  registry.on('error', () => {});
  const pending = new Map<string, SweepTask>();
  const take = (id: string, value: unknown) => {
    const task = pending.get(id);
    if (task === undefined) return;
    let run: SweepRun;
    try {
      run = decodeRun(value);
    } catch (error) {
      fail(
        new DsimError('CONFIG_ERROR', `sweep: job ${id} on ${name} returned no run (${messageOf(error)})`),
      );
      return;
    }
    if (run.point !== task.point || run.replication !== task.replication || run.seed !== task.seed) {
      fail(
        new DsimError(
          'CONFIG_ERROR',
          `sweep: job ${id} on ${name} returned the run ${run.point}#${run.replication} (seed ${run.seed}), not ${task.point}#${task.replication} (seed ${task.seed})`,
        ),
      );
      return;
    }
    pending.delete(id);
    plan.record(run);
    if (pending.size === 0) wake?.();
  };
  const lookup = async (id: string, retryFailed: boolean) => {
    const job = await Job.fromId(queue, id);
    if (!pending.has(id)) return;
    if (job === undefined) {
      // Gone (removed by hand, or aged out): enqueue it again.
      const task = pending.get(id)!;
      await queue.add('run', { ...task, target } satisfies WorkerTask, { jobId: id });
      return;
    }
    if (job.finishedOn === undefined) return;
    const state = await job.getState();
    if (state === 'failed') {
      if (retryFailed) await job.retry('failed');
      else fail(runFailed(id, name, job.failedReason));
    } else if (state === 'completed') take(id, job.returnvalue);
  };
  const lookupAll = async (retryFailed: boolean) => {
    const ids = [...pending.keys()];
    for (let i = 0; i < ids.length; i += 200)
      await Promise.all(ids.slice(i, i + 200).map((id) => lookup(id, retryFailed)));
  };
  events.on('completed', ({ jobId, returnvalue }) => {
    if (!pending.has(jobId)) return;
    // The event carries the value; parse it if it comes as text.
    let value: unknown = returnvalue;
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value);
      } catch {
        value = undefined;
      }
    }
    if (value !== null && typeof value === 'object') take(jobId, value);
    else void lookup(jobId, false).catch(() => {});
  });
  events.on('failed', ({ jobId, failedReason }) => {
    if (pending.has(jobId)) fail(runFailed(jobId, name, failedReason));
  });
  let poll: ReturnType<typeof setInterval> | undefined;
  let polling = false;
  try {
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    await registry.sadd(SWEEP_REGISTRY, name);
    let first = true;
    for (let tasks = plan.initial(); tasks.length > 0; tasks = plan.more()) {
      for (const t of tasks) pending.set(sweepJobId(t.point, t.replication), t);
      for (let i = 0; i < tasks.length; i += 500)
        await queue.addBulk(
          tasks.slice(i, i + 500).map((t) => ({
            name: 'run',
            data: { ...t, target } satisfies WorkerTask,
            opts: { jobId: sweepJobId(t.point, t.replication) },
          })),
        );
      if (first) settings.onQueued?.({ queue: name, runs: tasks.length, url: redis.display });
      first = false;
      // Jobs that finished before this sweep listened (an earlier start of the same sweep) are
      // collected now; ones that failed then are run again.
      await lookupAll(true);
      poll ??= setInterval(() => {
        if (polling) return;
        polling = true;
        lookupAll(false)
          .catch(() => {})
          .finally(() => {
            polling = false;
          });
      }, settings.pollMs ?? 5000);
      while (pending.size > 0 && failure === undefined)
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      wake = undefined;
      if (failure !== undefined) throw failure;
    }
    await registry.srem(SWEEP_REGISTRY, name);
  } catch (error) {
    // The jobs stay on the queue; started again, the sweep collects what finished meanwhile. Workers
    // stop taking its jobs until then.
    await registry.srem(SWEEP_REGISTRY, name).catch(() => {});
    throw error;
  } finally {
    if (poll !== undefined) clearInterval(poll);
    await Promise.allSettled([events.close(), queue.close()]);
    registry.disconnect();
  }
  return plan.result();
}

function runFailed(id: string, queue: string, reason: string): Error {
  return new Error(
    `run ${id} failed on a worker (queue ${queue}): ${reason}; the same command runs it again`,
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Options of {@link serveQueue}. */
export interface QueueWorkerOptions {
  /** Runs at a time (each on its own thread). @default the machine's cores */
  concurrency?: number;
  /** BullMQ `lockDuration`: how long a job's lock lasts; renewed every half of it. @default 30 000 ms */
  lockDurationMs?: number;
  /** BullMQ `stalledInterval`: how often jobs of dead workers are moved back to waiting. @default 30 000 ms */
  stalledIntervalMs?: number;
  /** BullMQ `maxStalledCount`. @default 5 */
  maxStalledCount?: number;
  /** How long to wait for Redis to answer at the start. @default 10 000 ms */
  connectTimeoutMs?: number;
  /** How often the registry of waiting sweeps is read. @default 1000 ms */
  registryPollMs?: number;
  /** This worker's name, stored on each job it takes (BullMQ `processedBy`). @default `host:pid` */
  name?: string;
  /** Told what happens: queues joined and left, runs started, done and failed, connection errors. */
  onEvent?: (event: QueueWorkerEvent) => void;
}

/** What a {@link serveQueue} worker reports. */
export type QueueWorkerEvent =
  | { kind: 'join' | 'leave'; queue: string }
  | { kind: 'start' | 'done'; queue: string; job: string }
  | { kind: 'failed'; queue: string; job: string; reason: string }
  | { kind: 'error'; message: string };

/** A running {@link serveQueue} worker. */
export interface QueueWorkerHandle {
  /** The worker's name, as stored on the jobs it takes. */
  name: string;
  /** Stops taking jobs, lets the runs in progress finish, and disconnects. */
  close(): Promise<void>;
}

/**
 * Serves every sweep waiting on the Redis at `url` (the queues in {@link SWEEP_REGISTRY}): takes their
 * jobs and runs each on a worker thread (so BullMQ's lock renewal keeps going during a long run),
 * loading the scenario by the job's target as `sweepInWorkers`' threads do, and returns the run as the
 * job's value. A job whose worker died goes back to waiting after at most `lockDurationMs` plus
 * `stalledIntervalMs` (twice, at worst), checked by any live worker.
 *
 * @example
 * ```ts
 * const w = await serveQueue('redis://localhost:6379/0', { concurrency: 2 });
 * // ... later
 * await w.close();
 * ```
 */
export async function serveQueue(url: string, options: QueueWorkerOptions = {}): Promise<QueueWorkerHandle> {
  const redis = parseQueueUrl(url);
  const concurrency = options.concurrency ?? defaultWorkers();
  const positive = (field: string, v: number, integer: boolean) => {
    if (!(Number.isFinite(v) && v > 0 && (!integer || Number.isInteger(v))))
      throw new DsimError(
        'CONFIG_ERROR',
        `${field} must be ${integer ? 'a whole number' : 'a number'} > 0, got ${showValue(v)}`,
        { details: { field, value: v } },
      );
  };
  positive('concurrency', concurrency, true);
  const lockDuration = options.lockDurationMs ?? QUEUE_WORKER_DEFAULTS.lockDurationMs;
  const stalledInterval = options.stalledIntervalMs ?? QUEUE_WORKER_DEFAULTS.stalledIntervalMs;
  const maxStalledCount = options.maxStalledCount ?? QUEUE_WORKER_DEFAULTS.maxStalledCount;
  positive('lockDurationMs', lockDuration, false);
  positive('stalledIntervalMs', stalledInterval, false);
  positive('maxStalledCount', maxStalledCount, true);
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const tell = options.onEvent ?? (() => {});
  const registry = await reachRedis(redis, 'url', options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  registry.on('error', (error: Error) =>
    tell({ kind: 'error', message: `${redis.display}: ${error.message}` }),
  );
  const connection = bullConnection(redis);
  const { Worker } = await import('bullmq');
  const fromSource = import.meta.url.endsWith('.ts');
  const pool = new Tinypool({
    filename: new URL(fromSource ? './worker-boot.mjs' : './worker.js', import.meta.url).href,
    minThreads: concurrency,
    maxThreads: concurrency,
    ...(fromSource ? { execArgv: ['--conditions', '@dsim/source'] } : {}),
  });
  const workers = new Map<string, Worker>();
  const serve = (queue: string) => {
    const worker = new Worker(
      queue,
      async (job) => {
        const task = checkTask(job.data);
        tell({ kind: 'start', queue, job: job.id ?? '' });
        const run = (await pool.run(task)) as SweepRun;
        tell({ kind: 'done', queue, job: job.id ?? '' });
        return encodeRun(run);
      },
      { connection, concurrency, lockDuration, stalledInterval, maxStalledCount, name },
    );
    worker.on('failed', (job, error) =>
      tell({ kind: 'failed', queue, job: job?.id ?? '', reason: error.message }),
    );
    worker.on('error', (error) => tell({ kind: 'error', message: `${queue}: ${error.message}` }));
    workers.set(queue, worker);
    tell({ kind: 'join', queue });
  };
  let closing = false;
  let busy = false;
  const refresh = async () => {
    if (busy || closing) return;
    busy = true;
    try {
      const names = new Set(await registry.smembers(SWEEP_REGISTRY));
      if (closing) return;
      for (const q of [...names].sort()) if (!workers.has(q) && /^dsim-sweep-[0-9a-f]{16}$/.test(q)) serve(q);
      for (const [q, w] of workers)
        if (!names.has(q)) {
          workers.delete(q);
          tell({ kind: 'leave', queue: q });
          void w.close().catch(() => {});
        }
    } catch {
      // Redis is away: the clients reconnect, and the next read catches up.
    } finally {
      busy = false;
    }
  };
  await refresh();
  const timer = setInterval(() => void refresh(), options.registryPollMs ?? 1000);
  return {
    name,
    async close() {
      closing = true;
      clearInterval(timer);
      await Promise.allSettled([...workers.values()].map((w) => w.close()));
      workers.clear();
      await pool.destroy();
      registry.disconnect();
    },
  };
}

/** A job's data, checked: a sweep task with its scenario target. */
function checkTask(data: unknown): WorkerTask {
  const d = data as Partial<WorkerTask> | null;
  if (
    d === null ||
    typeof d !== 'object' ||
    typeof d.target !== 'string' ||
    typeof d.point !== 'string' ||
    !Number.isInteger(d.replication) ||
    typeof d.seed !== 'string' ||
    d.params === null ||
    typeof d.params !== 'object' ||
    (d.variants !== undefined && !Array.isArray(d.variants))
  )
    throw new Error(`not a dsim sweep task: ${showValue(data)}`);
  return d as WorkerTask;
}

/** Numbers JSON cannot hold, as `{ $number: 'NaN' }`: a run comes back from the queue exactly as it was. */
type Encoded = number | string | boolean | null | { $number: string };

/**
 * A run as a job's return value: JSON, with outcome figures JSON cannot hold (NaN, ±Infinity, -0)
 * written as `{ "$number": "NaN" }`, so the run read back aggregates byte for byte as a local one.
 */
export function encodeRun(run: SweepRun): Omit<SweepRun, 'outcome'> & { outcome: Record<string, Encoded> } {
  const outcome: Record<string, Encoded> = {};
  for (const [k, v] of Object.entries(run.outcome))
    outcome[k] =
      typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))
        ? { $number: String(v === 0 ? '-0' : v) }
        : v;
  return { ...run, outcome };
}

/** A job's return value back into a run ({@link encodeRun} undone), checked. */
export function decodeRun(value: unknown): SweepRun {
  const v = value as Partial<SweepRun> | null;
  if (
    v === null ||
    typeof v !== 'object' ||
    typeof v.point !== 'string' ||
    !Number.isInteger(v.replication) ||
    typeof v.seed !== 'string' ||
    typeof v.digest !== 'string' ||
    v.outcome === null ||
    typeof v.outcome !== 'object' ||
    !Array.isArray(v.checks)
  )
    throw new Error(`not a sweep run: ${showValue(value)}`);
  const outcome: Outcome = {};
  for (const [k, x] of Object.entries(v.outcome as Record<string, Encoded>))
    outcome[k] = x !== null && typeof x === 'object' ? (x.$number === '-0' ? -0 : Number(x.$number)) : x;
  return { ...(v as SweepRun), outcome };
}

/** Connection options for BullMQ's clients (they reconnect on their own after the first contact). */
function bullConnection(r: RedisTarget): ConnectionOptions {
  return redisOptions(r);
}

/** Where and how to connect, as both ioredis and BullMQ take it. */
interface PlainRedisOptions {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: { servername: string };
}

function redisOptions(r: RedisTarget): PlainRedisOptions {
  return {
    host: r.host,
    port: r.port,
    db: r.db,
    ...(r.username === undefined ? {} : { username: r.username }),
    ...(r.password === undefined ? {} : { password: r.password }),
    ...(r.tls ? { tls: { servername: r.host } } : {}),
  };
}

/**
 * Waits until Redis answers PING, trying again until `timeoutMs` has passed; a refusal that will not go
 * away (a wrong password, a database that does not exist) fails at once. Returns a client for later
 * use, which reconnects on its own.
 */
async function reachRedis(r: RedisTarget, field: string, timeoutMs: number): Promise<Redis> {
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
  }, timeoutMs);
  let last = 'no answer';
  const { Redis } = await import('ioredis');
  try {
    for (;;) {
      const { db: _db, ...where } = redisOptions(r);
      const client = new Redis({
        ...where,
        lazyConnect: true,
        connectTimeout: Math.max(100, Math.min(timeoutMs, 5000)),
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
      });
      let socketError: string | undefined;
      client.on('error', (error: Error) => {
        socketError ??= error.message;
      });
      try {
        await withTimeout(
          (async () => {
            await client.connect();
            await client.ping();
            // Selected here, not by ioredis, which goes on with database 0 when SELECT fails.
            await client.select(r.db);
          })(),
          timeoutMs,
        );
        client.disconnect();
        // This one reconnects on its own if Redis goes away for a while.
        return new Redis({ ...redisOptions(r), maxRetriesPerRequest: null });
      } catch (error) {
        client.disconnect();
        last = socketError ?? messageOf(error);
        if (/^(ERR|WRONGPASS|NOAUTH|NOPERM)\b/.test(messageOf(error)))
          throw new DsimError('CONFIG_ERROR', `${field} ${r.display}: Redis refused: ${messageOf(error)}`, {
            details: { field, value: r.display },
          });
      }
      if (expired) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
      if (expired) break;
    }
  } finally {
    clearTimeout(timer);
  }
  throw new DsimError(
    'CONFIG_ERROR',
    `${field}: cannot reach Redis at ${r.display} within ${timeoutMs / 1000} s (${last}); is redis-server running there?`,
    { details: { field, value: r.display } },
  );
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
