import { type Duration, toMs } from '../duration.js';
import { invalidArgument } from '../errors.js';
import { checkOptions, optionKeys } from '../options.js';

/**
 * Back-of-envelope estimation, as in the system-design interview and the capacity reviews it imitates:
 * from daily users and their habits to requests per second, bandwidth, storage and servers, each figure
 * with the formula that gives it. Averages over a day, a constant peak factor, every write stored: the
 * point is the order of magnitude. For the latency at that many servers, see `replicasForObjective`.
 */

/** Seconds in a day: daily counts become rates by dividing by it. */
const SECONDS_PER_DAY = 86_400;
const MS_PER_DAY = 86_400_000;

/** Options of {@link estimate}. Rates are per second, sizes in bytes. */
export interface EstimateOptions {
  /** Daily active users, a finite number > 0. */
  users: number;
  /** Requests each user makes a day, a finite number > 0. */
  requestsPerUser: number;
  /** Peak rate over the day's average rate, a finite number >= 1 (2 to 3 is usual for a consumer service with one daily peak). */
  peakFactor: number;
  /**
   * Share of requests that write (and store `bytesPerWrite`), in [0, 1]. Give this or `readsPerWrite`,
   * not both.
   * @default none (no read/write split, no storage rows)
   */
  writeShare?: number;
  /** Reads per write, a finite number >= 0 (10 means 10:1): the write share is 1 / (1 + readsPerWrite). @default none */
  readsPerWrite?: number;
  /** Bytes a request carries to the servers (ingress), a finite number >= 0. @default none (no ingress row) */
  requestBytes?: number;
  /** Bytes a response carries back (egress), a finite number >= 0. @default none (no egress row) */
  responseBytes?: number;
  /** Bytes a write stores (one copy), a finite number >= 0. @default requestBytes */
  bytesPerWrite?: number;
  /**
   * How long written data is kept: a duration (`"30d"`, 2_592_000_000 ms) or a number of weeks or years
   * (`"12w"`, `"5y"`, a year being 365 days). Needs the writes and their size.
   * @default none (storage per day only)
   */
  retention?: Duration;
  /** Copies of every byte stored (3 for HDFS's default, a 3-node quorum), an integer >= 1. @default 1 */
  replication?: number;
  /**
   * Requests per second one server handles at 100% busy, a finite number > 0. Give this, or
   * `serviceTime` and `workers`.
   * @default none (no server rows)
   */
  serverCapacity?: number;
  /** Mean time a request holds a worker, a duration > 0: capacity = workers / serviceTime. @default none */
  serviceTime?: Duration;
  /** Requests one server works on at once, with `serviceTime`: an integer >= 1. @default 1 */
  workers?: number;
  /**
   * Busy share each server runs at, at the peak, in (0, 1]: the headroom kept for a lost server, a
   * burst above the peak factor and the queueing that grows as utilisation nears 1. A common choice,
   * not a standard; 1 gives the bare minimum.
   * @default 0.7
   */
  targetUtilization?: number;
}

const ESTIMATE_KEYS = optionKeys<EstimateOptions>()({
  users: true,
  requestsPerUser: true,
  peakFactor: true,
  writeShare: true,
  readsPerWrite: true,
  requestBytes: true,
  responseBytes: true,
  bytesPerWrite: true,
  retention: true,
  replication: true,
  serverCapacity: true,
  serviceTime: true,
  workers: true,
  targetUtilization: true,
});

/** One line of the worked table. */
export interface EstimateRow {
  /** What is estimated, e.g. `peak QPS`. */
  readonly quantity: string;
  /** The formula in the option names, e.g. `average QPS × peakFactor`. */
  readonly formula: string;
  /** The same with the numbers put in, e.g. `2315 × 3`. */
  readonly worked: string;
  /** The value, in `unit`. */
  readonly value: number;
  /** `req/s`, `B/s`, `B`, `servers`, or `` for a ratio. */
  readonly unit: string;
  /** The value for reading: rounded, grouped, with its unit (`6,944 req/s`, `1.26 TB`). */
  readonly display: string;
}

/** What {@link estimate} works out. Null where the options needed for a figure were not given. */
export interface Estimate {
  /** The options, with defaults filled in (`writeShare` from `readsPerWrite` when that was given). */
  readonly inputs: Readonly<EstimateOptions>;
  /** users × requestsPerUser / 86 400 s, requests per second. */
  readonly averageQps: number;
  /** averageQps × peakFactor. */
  readonly peakQps: number;
  /** peakQps × writeShare. */
  readonly peakWriteQps: number | null;
  /** peakQps × (1 − writeShare). */
  readonly peakReadQps: number | null;
  /** peakQps × requestBytes, bytes per second into the servers at the peak. */
  readonly peakIngressBytesPerSecond: number | null;
  /** peakQps × responseBytes, bytes per second out at the peak. */
  readonly peakEgressBytesPerSecond: number | null;
  /** users × requestsPerUser × writeShare × bytesPerWrite: new bytes a day, one copy. */
  readonly storagePerDayBytes: number | null;
  /** storagePerDayBytes × retention in days × replication. */
  readonly retainedBytes: number | null;
  /** Requests per second one server handles at 100%: serverCapacity, or workers / serviceTime. */
  readonly serverCapacity: number | null;
  /** ⌈peakQps / (serverCapacity × targetUtilization)⌉. */
  readonly servers: number | null;
  /** peakQps / (servers × serverCapacity): the busy share the servers actually run at, at the peak. */
  readonly peakUtilization: number | null;
  /** The worked table, one row per figure above that was computed. */
  readonly rows: readonly EstimateRow[];
}

/**
 * Works out the classic back-of-envelope figures from daily users: average and peak requests per
 * second, the read/write split, bandwidth in and out at the peak, storage per day and over the
 * retention (with replication), and the servers the peak needs at the target utilisation. Each comes
 * with its formula in {@link Estimate.rows}; {@link formatEstimate} prints them as a table. Options a
 * figure needs but not given leave that figure null and its row out; options that would be ignored
 * (a `retention` with no writes) are errors.
 *
 * @example
 * ```ts
 * const e = estimate({
 *   users: 10_000_000, requestsPerUser: 20, peakFactor: 3,
 *   readsPerWrite: 9, requestBytes: 1_000, responseBytes: 10_000,
 *   retention: '5y', replication: 3,
 *   serviceTime: '20ms', workers: 8, targetUtilization: 0.7,
 * });
 * e.averageQps;   // 2314.8 (10M × 20 / 86 400)
 * e.peakQps;      // 6944.4
 * e.retainedBytes; // 1.095e14: 20 GB a day × 1825 days × 3
 * e.servers;      // 25 (400 req/s each at 100%, 280 at 70%)
 * ```
 */
export function estimate(options: EstimateOptions): Estimate {
  const C = 'estimate';
  if (options === null || typeof options !== 'object')
    throw invalidArgument('options', options, 'an object { users, requestsPerUser, peakFactor, ... }', C);
  checkOptions(C, options, ESTIMATE_KEYS);
  const users = positive(options.users, 'users', 'daily active users, a finite number > 0');
  const perUser = positive(
    options.requestsPerUser,
    'requestsPerUser',
    'requests a user makes a day, a finite number > 0',
  );
  const peakFactor = options.peakFactor;
  if (typeof peakFactor !== 'number' || !Number.isFinite(peakFactor) || !(peakFactor >= 1))
    throw invalidArgument(
      'peakFactor',
      peakFactor,
      'the peak over the average rate, a finite number >= 1',
      C,
    );

  if (options.writeShare !== undefined && options.readsPerWrite !== undefined)
    throw invalidArgument(
      'readsPerWrite',
      options.readsPerWrite,
      'left out when writeShare is given (they say the same thing; give one)',
      C,
    );
  let writeShare: number | null = null;
  if (options.writeShare !== undefined) {
    const w = options.writeShare;
    if (typeof w !== 'number' || !(w >= 0 && w <= 1))
      throw invalidArgument('writeShare', w, 'the share of requests that write, in [0, 1]', C);
    writeShare = w;
  } else if (options.readsPerWrite !== undefined) {
    const r = options.readsPerWrite;
    if (typeof r !== 'number' || !Number.isFinite(r) || !(r >= 0))
      throw invalidArgument('readsPerWrite', r, 'reads per write, a finite number >= 0 (10 for 10:1)', C);
    writeShare = 1 / (1 + r);
  }
  const requestBytes = bytes(options.requestBytes, 'requestBytes');
  const responseBytes = bytes(options.responseBytes, 'responseBytes');
  const bytesPerWrite = bytes(options.bytesPerWrite, 'bytesPerWrite') ?? requestBytes;
  if (options.bytesPerWrite !== undefined && writeShare === null)
    throw invalidArgument(
      'bytesPerWrite',
      options.bytesPerWrite,
      'given with writeShare or readsPerWrite (which requests write)',
      C,
    );
  const stores = writeShare !== null && bytesPerWrite !== null;

  let retentionDays: number | null = null;
  if (options.retention !== undefined) {
    if (!stores)
      throw invalidArgument(
        'retention',
        options.retention,
        'given with the writes (writeShare or readsPerWrite) and their size (bytesPerWrite or requestBytes)',
        C,
      );
    const ms = retentionMs(options.retention);
    if (!(ms > 0) || !Number.isFinite(ms))
      throw invalidArgument(
        'retention',
        options.retention,
        'a finite duration > 0, such as "30d", "12w" or "5y"',
        C,
      );
    retentionDays = ms / MS_PER_DAY;
  }
  const replication = options.replication ?? 1;
  if (
    typeof replication !== 'number' ||
    !Number.isInteger(replication) ||
    replication < 1 ||
    replication > 1000
  )
    throw invalidArgument('replication', replication, 'copies of each byte, an integer in [1, 1000]', C);
  if (options.replication !== undefined && retentionDays === null)
    throw invalidArgument(
      'replication',
      replication,
      'given with retention (it multiplies the data kept)',
      C,
    );

  if (options.serverCapacity !== undefined && options.serviceTime !== undefined)
    throw invalidArgument(
      'serviceTime',
      options.serviceTime,
      'left out when serverCapacity is given (capacity is workers / serviceTime; give one way)',
      C,
    );
  if (options.workers !== undefined && options.serviceTime === undefined)
    throw invalidArgument(
      'workers',
      options.workers,
      'given with serviceTime (capacity = workers / serviceTime)',
      C,
    );
  let capacity: number | null = null;
  let serviceMs: number | null = null;
  const workers = options.workers ?? 1;
  if (options.serverCapacity !== undefined) {
    capacity = positive(
      options.serverCapacity,
      'serverCapacity',
      'requests per second at 100% busy, a finite number > 0',
    );
  } else if (options.serviceTime !== undefined) {
    serviceMs = toMs(options.serviceTime, `${C}: serviceTime`);
    if (!(serviceMs > 0) || !Number.isFinite(serviceMs))
      throw invalidArgument(
        'serviceTime',
        options.serviceTime,
        'a finite mean service time > 0, such as "20ms"',
        C,
      );
    if (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 1 || workers > 1_000_000)
      throw invalidArgument('workers', workers, 'an integer in [1, 1000000]', C);
    capacity = (workers * 1000) / serviceMs;
  }
  const target = options.targetUtilization ?? 0.7;
  if (typeof target !== 'number' || !(target > 0 && target <= 1))
    throw invalidArgument('targetUtilization', target, 'a busy share in (0, 1], such as 0.7', C);
  if (options.targetUtilization !== undefined && capacity === null)
    throw invalidArgument(
      'targetUtilization',
      target,
      'given with serverCapacity or serviceTime (the servers it sizes)',
      C,
    );

  const rows: EstimateRow[] = [];
  const add = (quantity: string, formula: string, worked: string, value: number, unit: string) =>
    rows.push({ quantity, formula, worked, value, unit, display: display(value, unit) });

  const averageQps = (users * perUser) / SECONDS_PER_DAY;
  add(
    'average QPS',
    'users × requestsPerUser / 86 400 s',
    `${si(users)} × ${si(perUser)} / 86 400 s`,
    averageQps,
    'req/s',
  );
  const peakQps = averageQps * peakFactor;
  add('peak QPS', 'average QPS × peakFactor', `${num(averageQps)} × ${si(peakFactor)}`, peakQps, 'req/s');

  let peakWriteQps: number | null = null;
  let peakReadQps: number | null = null;
  if (writeShare !== null) {
    const share =
      options.readsPerWrite === undefined ? si(writeShare) : `1 / (1 + ${si(options.readsPerWrite)})`;
    peakWriteQps = peakQps * writeShare;
    peakReadQps = peakQps - peakWriteQps;
    add('peak write QPS', 'peak QPS × writeShare', `${num(peakQps)} × ${share}`, peakWriteQps, 'req/s');
    add(
      'peak read QPS',
      'peak QPS × (1 − writeShare)',
      `${num(peakQps)} − ${num(peakWriteQps)}`,
      peakReadQps,
      'req/s',
    );
  }

  let ingress: number | null = null;
  let egress: number | null = null;
  if (requestBytes !== null) {
    ingress = peakQps * requestBytes;
    add('peak ingress', 'peak QPS × requestBytes', `${num(peakQps)} × ${si(requestBytes)} B`, ingress, 'B/s');
  }
  if (responseBytes !== null) {
    egress = peakQps * responseBytes;
    add('peak egress', 'peak QPS × responseBytes', `${num(peakQps)} × ${si(responseBytes)} B`, egress, 'B/s');
  }

  let perDay: number | null = null;
  let retained: number | null = null;
  if (stores) {
    perDay = users * perUser * (writeShare as number) * (bytesPerWrite as number);
    add(
      'storage per day',
      'users × requestsPerUser × writeShare × bytesPerWrite',
      `${si(users)} × ${si(perUser)} × ${num(writeShare as number)} × ${si(bytesPerWrite as number)} B`,
      perDay,
      'B',
    );
    if (retentionDays !== null) {
      retained = perDay * retentionDays * replication;
      add(
        'storage over retention',
        'storage per day × retention (days) × replication',
        `${display(perDay, 'B')} × ${num(retentionDays)} × ${replication}`,
        retained,
        'B',
      );
    }
  }

  let servers: number | null = null;
  let peakUtilization: number | null = null;
  if (capacity !== null) {
    if (serviceMs !== null)
      add('server capacity', 'workers / serviceTime', `${workers} / ${num(serviceMs)} ms`, capacity, 'req/s');
    const needed = peakQps / (capacity * target);
    // A ratio within rounding of a whole number is that number: 350 / (50 × 0.7) is 10, not 11.
    const whole = Math.round(needed);
    servers = Math.max(1, Math.abs(needed - whole) <= 1e-9 * Math.max(1, needed) ? whole : Math.ceil(needed));
    add(
      'servers at peak',
      '⌈peak QPS / (server capacity × targetUtilization)⌉',
      `⌈${num(peakQps)} / (${num(capacity)} × ${si(target)})⌉`,
      servers,
      'servers',
    );
    peakUtilization = peakQps / (servers * capacity);
    add(
      'utilisation at peak',
      'peak QPS / (servers × server capacity)',
      `${num(peakQps)} / (${servers} × ${num(capacity)})`,
      peakUtilization,
      '',
    );
  }

  const inputs: EstimateOptions = {
    ...options,
    ...(writeShare === null ? {} : { writeShare }),
    ...(bytesPerWrite === null || writeShare === null ? {} : { bytesPerWrite }),
    ...(retentionDays === null ? {} : { replication }),
    ...(capacity === null ? {} : { targetUtilization: target }),
    ...(serviceMs === null ? {} : { workers }),
  };
  return Object.freeze({
    inputs: Object.freeze(inputs),
    averageQps,
    peakQps,
    peakWriteQps,
    peakReadQps,
    peakIngressBytesPerSecond: ingress,
    peakEgressBytesPerSecond: egress,
    storagePerDayBytes: perDay,
    retainedBytes: retained,
    serverCapacity: capacity,
    servers,
    peakUtilization,
    rows: Object.freeze(rows),
  });

  function positive(value: unknown, field: string, allowed: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0))
      throw invalidArgument(field, value, allowed, C);
    return value;
  }

  function bytes(value: unknown, field: string): number | null {
    if (value === undefined) return null;
    if (typeof value !== 'number' || !Number.isFinite(value) || !(value >= 0))
      throw invalidArgument(field, value, 'a number of bytes, finite and >= 0', C);
    return value;
  }
}

const LONG_UNITS_MS: Readonly<Record<string, number>> = { w: 7 * MS_PER_DAY, y: 365 * MS_PER_DAY };

/** A duration, or a whole or decimal number of weeks (`12w`) or 365-day years (`5y`). */
function retentionMs(value: Duration): number {
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(w|y)\s*$/.exec(value);
    if (m !== null) return Number(m[1]) * LONG_UNITS_MS[m[2]!]!;
  }
  return toMs(value, 'estimate: retention (units us, ms, s, m, h, d, w, y)');
}

/**
 * The worked table of an {@link estimate} as text: one line per figure with its formula, the numbers
 * put in, and the value.
 *
 * @example
 * ```ts
 * console.log(formatEstimate(estimate({ users: 1e6, requestsPerUser: 10, peakFactor: 2 })));
 * // quantity     formula                             worked              value
 * // average QPS  users × requestsPerUser / 86 400 s  1M × 10 / 86 400 s  115.7 req/s
 * // peak QPS     average QPS × peakFactor            115.7 × 2           231.5 req/s
 * ```
 */
export function formatEstimate(result: Estimate): string {
  const lines = [
    ['quantity', 'formula', 'worked', 'value'],
    ...result.rows.map((r) => [r.quantity, r.formula, r.worked, r.display]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...lines.map((l) => [...l[i]!].length)));
  return `${lines
    .map((l) =>
      l
        .map((cell, i) => (i < 3 ? cell + ' '.repeat(widths[i]! - [...cell].length) : cell))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

/** An input as written: 10000000 as 10M, 1500 as 1.5k, 0.7 as 0.7. */
function si(x: number): string {
  for (const [size, suffix] of [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ] as const) {
    if (Math.abs(x) >= size) return `${Number((x / size).toPrecision(4))}${suffix}`;
  }
  return String(Number(x.toPrecision(4)));
}

/** A computed number: 4 significant digits below 10 000, grouped whole numbers above. */
function num(x: number): string {
  if (Math.abs(x) >= 10_000) return group(Math.round(x));
  return String(Number(x.toPrecision(4)));
}

function group(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A value with its unit, for reading: bytes in decimal SI units, rates grouped, ratios as percent. */
function display(value: number, unit: string): string {
  if (unit === '') return `${Number((value * 100).toPrecision(3))}%`;
  if (unit === 'servers') return `${value} servers`;
  if (unit === 'B' || unit === 'B/s') {
    if (unit === 'B') return `${scale(value)}B`;
    return `${scale(value)}B/s (${scale(value * 8)}bit/s)`;
  }
  return `${num(value)} ${unit}`;
}

/** 1.26e12 as "1.26 T", 800 as "800 ". */
function scale(x: number): string {
  for (const [size, prefix] of [
    [1e18, 'E'],
    [1e15, 'P'],
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ] as const) {
    if (Math.abs(x) >= size) return `${Number((x / size).toPrecision(3))} ${prefix}`;
  }
  return `${Number(x.toPrecision(3))} `;
}
