import {
  type Counter,
  checkDuration,
  checkEnum,
  checkName,
  checkNumber,
  checkOptions,
  type Duration,
  invalidOption,
  optionKeys,
} from '@dsim/core';
import { type HealthClock, type ResolvedClock, resolveClock } from './host.js';
import type { BackendHealth } from './types.js';

const ERROR_KINDS = [
  'timeout',
  'rejected',
  'unavailable',
  'overloaded',
  'gateway-timeout',
  'deadline-exceeded',
  'error',
] as const;

/**
 * Options of {@link MaxFails}, named after nginx's `server` parameters in an `upstream` block
 * (https://nginx.org/en/docs/http/ngx_http_upstream_module.html#server).
 *
 * @example
 * ```ts
 * const options: MaxFailsOptions = { maxFails: 3, failTimeout: '30s', workers: 4 };
 * ```
 */
export interface MaxFailsOptions {
  /** Failures that make a server unavailable (nginx `max_fails`); 0 disables the accounting. @default 1 */
  maxFails?: number;
  /** Both the window failures are counted in and how long the server is then skipped (nginx `fail_timeout`). @default 10 s */
  failTimeout?: Duration;
  /**
   * nginx worker processes, each with its own failure state; requests go to the workers in turn (see
   * {@link MaxFails}). An integer >= 1.
   * @default 1
   */
  workers?: number;
  /**
   * The error kinds that count as failed attempts. nginx counts what `proxy_next_upstream` names,
   * by default `error timeout`: connection errors and timeouts, not HTTP error answers
   * (https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_next_upstream). Add
   * `'error'`, `'overloaded'` ... to model `http_500`, `http_503` ...
   * @default ['timeout', 'unavailable']
   */
  failOn?: readonly string[];
  /** Name in trace records and metrics. @default the node's address, else 'max-fails' */
  name?: string;
}

const KEYS = optionKeys<MaxFailsOptions>()({
  maxFails: true,
  failTimeout: true,
  workers: true,
  failOn: true,
  name: true,
});

interface Peer {
  fails: number;
  /** nginx `accessed`: time of the last failure. */
  accessed: number;
  /** nginx `checked`: time of the last failure, or of the first pick after fail_timeout. */
  checked: number;
}

/**
 * nginx's passive health: `max_fails` failed attempts within `fail_timeout` make a server
 * unavailable for `fail_timeout`, after which it gets requests again
 * (https://nginx.org/en/docs/http/ngx_http_upstream_module.html#max_fails). Implements the
 * balancer's `BackendHealth`.
 *
 * **The exact rule** (`ngx_http_upstream_round_robin.c`): per server, `fails`, `accessed` and
 * `checked`. A failure sets `fails++` and `accessed = checked = now`. A server is skipped while
 * `fails >= maxFails` and `now - checked <= failTimeout`. Picking a server more than `failTimeout` after
 * `checked` sets `checked` to the pick time, and a success resets `fails` only when
 * `accessed < checked`. So failures accumulate while each comes within `failTimeout` of the last (a
 * success in between does not reset them), and a success once `failTimeout` has passed clears them.
 * The pick time is taken as `now - latencyMs` when the answer is reported. nginx keeps these times in
 * whole seconds; here they are ms.
 *
 * **Workers.** Each nginx worker process keeps its own state, so each rediscovers a dead server on its
 * own. Here requests are spread round-robin over `workers`: the k-th reported answer belongs to worker
 * k mod workers, and `isAvailable` answers for the worker whose turn is next. With one request at a
 * time this is exact round-robin; with requests in flight together it is an approximation.
 *
 * **Time.** Only reads the clock (no timers): pass the Simulation or the balancer's NetNode (then a
 * crash of the node forgets the state).
 *
 * Trace record (when `sim.tracing`): `@dsim.lb.max-fails` `{ balancer, backend, worker, fails, until }`
 * when a worker starts skipping a server. Metric under `name`: counter `lb.max-fails.disabled`.
 *
 * @example
 * ```ts
 * const passive = new MaxFails(sim, { maxFails: 1, failTimeout: '10s' }); // nginx defaults
 * passive.onResponse('app-1', false, 'timeout', 1000);
 * passive.isAvailable('app-1'); // false for the next 10 s
 * ```
 */
export class MaxFails implements BackendHealth {
  /** The resolved options. */
  readonly options: {
    readonly maxFails: number;
    readonly failTimeout: number;
    readonly workers: number;
    readonly failOn: readonly string[];
    readonly name: string;
  };
  private readonly clock: ResolvedClock;
  private readonly state: Array<Map<string, Peer>>;
  private readonly failOn: ReadonlySet<string>;
  private cursor = 0;
  private readonly disabled: Counter;

  /**
   * @param clock - the Simulation or the balancer's NetNode (see {@link HealthClock})
   * @param options - see {@link MaxFailsOptions}; nginx's defaults when left out
   */
  constructor(clock: HealthClock, options?: MaxFailsOptions) {
    const C = 'MaxFails';
    this.clock = resolveClock(C, 'clock', clock);
    checkOptions(C, options, KEYS);
    const o = options ?? {};
    let failOn: readonly string[] = ['timeout', 'unavailable'];
    if (o.failOn !== undefined) {
      if (!Array.isArray(o.failOn) || o.failOn.length === 0)
        throw invalidOption(C, 'failOn', o.failOn, 'a non-empty array of error kinds');
      failOn = o.failOn.map((k, i) => checkEnum(C, `failOn[${i}]`, k, ERROR_KINDS));
    }
    this.options = {
      maxFails: checkNumber(C, 'maxFails', o.maxFails, { integer: true, min: 0 }, 1),
      failTimeout: checkDuration(C, 'failTimeout', o.failTimeout, { positive: true }, 10_000),
      workers: checkNumber(C, 'workers', o.workers, { integer: true, min: 1 }, 1),
      failOn,
      name: checkName(C, 'name', o.name, this.clock.node?.address ?? 'max-fails'),
    };
    this.failOn = new Set(failOn);
    this.state = Array.from({ length: this.options.workers }, () => new Map());
    this.disabled = this.clock.sim.metrics.counter(this.options.name, 'lb.max-fails.disabled');
    this.clock.node?.onCrash(() => {
      for (const m of this.state) m.clear();
      this.cursor = 0;
    });
  }

  /** The worker that takes the next request. */
  get worker(): number {
    return this.cursor % this.options.workers;
  }

  /** Whether the worker whose turn is next may send to `address`. */
  isAvailable(address: string): boolean {
    return this.isAvailableFor(this.worker, address);
  }

  /** Whether worker `worker` (0-based) may send to `address`. */
  isAvailableFor(worker: number, address: string): boolean {
    const p = this.state[worker]?.get(address);
    if (p === undefined || this.options.maxFails === 0) return true;
    return !(p.fails >= this.options.maxFails && this.clock.sim.now - p.checked <= this.options.failTimeout);
  }

  /** Records the answer of one request (the current worker's), then passes the turn to the next worker. */
  onResponse(address: string, ok: boolean, errorKind: string | undefined, latencyMs: number): void {
    const w = this.worker;
    this.cursor++;
    const o = this.options;
    if (o.maxFails === 0) return;
    const worker = this.state[w]!;
    let p = worker.get(address);
    if (p === undefined) {
      p = { fails: 0, accessed: -Infinity, checked: -Infinity };
      worker.set(address, p);
    }
    const now = this.clock.sim.now;
    const pickedAt = latencyMs >= 0 && latencyMs <= now ? now - latencyMs : now;
    if (pickedAt - p.checked > o.failTimeout) p.checked = pickedAt;
    const failed = !ok && errorKind !== undefined && this.failOn.has(errorKind);
    if (!failed) {
      if (p.accessed < p.checked) p.fails = 0;
      return;
    }
    p.fails++;
    p.accessed = now;
    p.checked = now;
    if (p.fails >= o.maxFails) {
      this.disabled.inc();
      const sim = this.clock.sim;
      if (sim.tracing)
        sim.emit('@dsim.lb.max-fails', {
          balancer: o.name,
          backend: address,
          worker: w,
          fails: p.fails,
          until: now + o.failTimeout,
        });
    }
  }
}
