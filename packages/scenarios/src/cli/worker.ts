import { toMs } from '@dsim/core';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  parseQueueUrl,
  QUEUE_WORKER_DEFAULTS,
  type QueueWorkerEvent,
  serveQueue,
} from '../sweep/queue.js';
import { wallClock } from '../wall-clock.js';
import { UsageError } from './failure.js';

/** What `dsim worker` was asked, flags already split. */
export interface WorkerCommand {
  /** The Redis URL, as given. */
  queue: string | undefined;
  /** Runs at a time, as given. @default the machine's cores */
  concurrency: string | undefined;
  /** BullMQ lockDuration, as given (`30s`). @default 30s */
  lockDuration: string | undefined;
  /** BullMQ stalledInterval, as given (`30s`). @default 30s */
  stalledInterval: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * `dsim worker --queue redis://host:6379/0 [--concurrency N] [--lock-duration 30s] [--stalled-interval 30s]`:
 * runs the jobs of every sweep waiting on that Redis (`dsim sweep ... --queue URL`), N at a time on
 * worker threads, until SIGTERM or SIGINT; then it finishes the runs in progress and exits 0 (a second
 * signal stops it at once). Logs one line per finished run on stderr.
 */
export async function workerCommand(
  c: WorkerCommand,
  io: { stdout(t: string): void; stderr(t: string): void },
): Promise<number> {
  if (c.queue === undefined)
    throw new UsageError("'worker' needs --queue URL: dsim worker --queue redis://localhost:6379/0");
  const redis = parseQueue(c.queue);
  const concurrency = c.concurrency === undefined ? undefined : Number(c.concurrency);
  if (
    concurrency !== undefined &&
    !(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 1024)
  )
    throw new UsageError(
      `--concurrency must be a whole number from 1 to 1024, got ${JSON.stringify(c.concurrency)}`,
    );
  const lockDurationMs =
    durationFlag('--lock-duration', c.lockDuration) ?? QUEUE_WORKER_DEFAULTS.lockDurationMs;
  const stalledIntervalMs =
    durationFlag('--stalled-interval', c.stalledInterval) ?? QUEUE_WORKER_DEFAULTS.stalledIntervalMs;
  const started = new Map<string, number>();
  const log = (e: QueueWorkerEvent) => {
    switch (e.kind) {
      case 'join':
        io.stderr(`dsim worker: taking the runs of ${e.queue}\n`);
        break;
      case 'leave':
        io.stderr(`dsim worker: ${e.queue} is no longer waited for\n`);
        break;
      case 'start':
        started.set(`${e.queue} ${e.job}`, wallClock.now());
        break;
      case 'done': {
        const t0 = started.get(`${e.queue} ${e.job}`);
        started.delete(`${e.queue} ${e.job}`);
        const ms = t0 === undefined ? '' : ` in ${Math.round(wallClock.now() - t0)} ms`;
        io.stderr(`dsim worker: ${e.queue} ${e.job} done${ms}\n`);
        break;
      }
      case 'failed':
        started.delete(`${e.queue} ${e.job}`);
        io.stderr(`dsim worker: ${e.queue} ${e.job} failed: ${e.reason}\n`);
        break;
      case 'error':
        io.stderr(`dsim worker: ${e.message}\n`);
        break;
    }
  };
  const handle = await serveQueue(c.queue, {
    ...(concurrency === undefined ? {} : { concurrency }),
    lockDurationMs,
    stalledIntervalMs,
    connectTimeoutMs: connectTimeoutFromEnv(c.env),
    onEvent: log,
  });
  io.stderr(
    `dsim worker ${handle.name}: serving the sweeps waiting on ${redis.display} (lock ${lockDurationMs / 1000} s, stalled check every ${stalledIntervalMs / 1000} s)\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      io.stderr(`dsim worker: ${signal}: finishing the runs in progress (again to stop at once)\n`);
      process.once(signal, () => process.exit(130));
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await handle.close();
  return 0;
}

/** The URL checked, errors naming `--queue`. */
export function parseQueue(value: string) {
  try {
    return parseQueueUrl(value, '--queue');
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/**
 * `DSIM_QUEUE_CONNECT_TIMEOUT` (a duration such as `30s`, or seconds): how long `--queue` waits for Redis
 * to answer at the start before giving up. @default 10 s
 */
export function connectTimeoutFromEnv(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.DSIM_QUEUE_CONNECT_TIMEOUT;
  if (raw === undefined || raw.trim() === '') return DEFAULT_CONNECT_TIMEOUT_MS;
  const text = raw.trim();
  let ms = Number.NaN;
  try {
    ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : toMs(text, 'DSIM_QUEUE_CONNECT_TIMEOUT');
  } catch {}
  if (!(ms > 0 && ms <= 3_600_000))
    throw new UsageError(
      `DSIM_QUEUE_CONNECT_TIMEOUT must be a duration from 1ms to 1h such as 30s, got ${JSON.stringify(raw)}`,
    );
  return ms;
}

function durationFlag(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  let ms = Number.NaN;
  try {
    ms = toMs(raw.trim(), flag);
  } catch {}
  if (!(ms >= 100 && ms <= 86_400_000))
    throw new UsageError(
      `${flag} must be a duration from 100ms to 24h such as 30s, got ${JSON.stringify(raw)}`,
    );
  return ms;
}
