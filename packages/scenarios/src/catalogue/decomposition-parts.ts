import type { DownstreamCaller, RetryingClient } from '@dsim/components';
import {
  type Distribution,
  DsimError,
  exponential,
  type Network,
  type RandomStream,
  type RpcEndpoint,
  type RpcError,
  type RpcRequest,
  type Simulation,
} from '@dsim/core';

/**
 * Parts shared by the service-decomposition scenarios (`monolith-vs-microservices`,
 * `service-boundaries`): CPU distributions (a sum of parts, and one that meters what it drew), a
 * crash-and-restart loop for a deployable, a downstream caller with a fallback on one dependency.
 */

/**
 * A distribution that is the sum of independent parts: the CPU of in-process calls made one after the
 * other (the monolith runs every module's work on one thread), or a service's work plus its
 * serialization. Mean and variance add.
 *
 * @example
 * ```ts
 * const cpu = sumOf([constant(0.2), exponential({ mean: 1 }), exponential({ mean: 2 })]);
 * cpu.mean; // 3.2
 * ```
 */
export function sumOf(parts: readonly Distribution[]): Distribution {
  if (!Array.isArray(parts) || parts.length === 0)
    throw new DsimError('INVALID_ARGUMENT', 'sumOf: parts must be a non-empty array of distributions', {
      details: { field: 'parts', value: parts, allowed: 'a non-empty array of distributions' },
    });
  let mean = 0;
  let variance = 0;
  for (const p of parts) {
    if (p.mean === undefined || p.variance === undefined)
      throw new DsimError('INVALID_ARGUMENT', `sumOf: ${p.describe()} has no finite mean and variance`, {
        details: { field: 'parts', value: p.describe(), allowed: 'distributions with a mean and a variance' },
      });
    mean += p.mean;
    variance += p.variance;
  }
  const list = [...parts];
  return {
    kind: 'sum',
    mean,
    variance,
    sample(rng: RandomStream): number {
      let s = 0;
      for (let i = 0; i < list.length; i++) s += list[i]!.sample(rng);
      return s;
    },
    describe: () => `sum(${list.map((p) => p.describe()).join(', ')})`,
  };
}

/**
 * A service-time distribution that also adds up what it drew: the CPU a service spent (its node runs
 * at full capacity, so a draw is the CPU of one request).
 *
 * @example
 * ```ts
 * const cpu = new MeteredWork(exponential({ mean: 2 }));
 * new Service(node, { serviceTime: cpu });
 * // after the run: cpu.totalMs / cpu.draws
 * ```
 */
export class MeteredWork implements Distribution {
  readonly kind = 'metered';
  /** CPU drawn so far, ms. */
  totalMs = 0;
  /** Requests that started their work. */
  draws = 0;
  constructor(private readonly inner: Distribution) {}
  get mean(): number | undefined {
    return this.inner.mean;
  }
  get variance(): number | undefined {
    return this.inner.variance;
  }
  sample(rng: RandomStream): number {
    const x = this.inner.sample(rng);
    this.totalMs += x;
    this.draws++;
    return x;
  }
  describe(): string {
    return this.inner.describe();
  }
}

/**
 * Most crash-and-restart cycles of all deployables in one variant: a bound on its run time, as
 * `limitOffered` bounds requests (a crash loop runs to the end of the run).
 *
 * @default 1_000_000
 * @example
 * ```ts
 * limitOffered(deployables * seconds * 1000 / (mttfMs + mttrMs), 'deployables × seconds / (mttf + mttr)', MAX_CRASH_CYCLES, 'crash cycles');
 * ```
 */
export const MAX_CRASH_CYCLES = 1_000_000;

/**
 * Crashes `address` whenever the first of its causes fires, an exponential crash (mean `mttfMs`, 0:
 * none) or the leak (`leakMs` after each start, 0: none), and restarts it after an exponential repair
 * (mean `mttrMs`); for ever (run the simulation with `until`). Draws from its own stream
 * `<address>/crashes`, one up and one repair time a cycle, so other nodes' crashes do not shift it.
 *
 * @example
 * ```ts
 * crashLoop(sim, net, 'auth', { mttfMs: 10_000, leakMs: 0, mttrMs: 125 }, () => crashes++);
 * ```
 */
export function crashLoop(
  sim: Simulation,
  net: Network,
  address: string,
  causes: { mttfMs: number; leakMs: number; mttrMs: number },
  onCrash: () => void,
): void {
  const { mttfMs, leakMs, mttrMs } = causes;
  if (mttfMs === 0 && leakMs === 0) return;
  const rng = sim.rng(`${address}/crashes`);
  const up = mttfMs === 0 ? undefined : exponential({ mean: mttfMs });
  const repair = exponential({ mean: mttrMs });
  sim.process(function* () {
    for (;;) {
      let t = up === undefined ? Number.POSITIVE_INFINITY : up.sample(rng);
      if (leakMs > 0 && leakMs < t) t = leakMs;
      yield sim.timeout(t);
      net.crash(address);
      onCrash();
      yield sim.timeout(repair.sample(rng));
      net.restart(address);
    }
  });
}

type Done = (response: {
  readonly ok: boolean;
  readonly error?: RpcError;
  readonly request?: RpcRequest | undefined;
}) => void;

/**
 * A service's downstream caller with a fallback on one dependency: calls to `to` go through `client`
 * (a {@link RetryingClient} with a `fallback`: a degraded answer when the dependency fails), every
 * other call straight through the endpoint, so the failure of any other call fails the request.
 * `onFallback` is told the request whose call fell back.
 *
 * @example
 * ```ts
 * new Service(node, {
 *   serviceTime: 1,
 *   downstream: {
 *     calls: ['auth', { to: 'recommendations', timeout: 20 }],
 *     client: (ep) => new FallbackRoute(ep, 'recommendations', new RetryingClient(ep, { fallback: () => [] }), () => {}),
 *   },
 * });
 * ```
 */
export class FallbackRoute implements DownstreamCaller {
  constructor(
    private readonly endpoint: RpcEndpoint,
    private readonly to: string,
    private readonly client: RetryingClient,
    private readonly onFallback: (parent: RpcRequest) => void,
  ) {}

  call(to: string, payload: unknown, options: { parent: RpcRequest; timeout?: number; deadline?: number }) {
    if (to !== this.to) return this.endpoint.call(to, payload, options);
    const event = this.client.call(to, payload, options);
    event.onProcessed((e) => {
      if (e.value!.ok && e.value!.fallback) this.onFallback(options.parent);
    });
    return event;
  }

  callThen(
    to: string,
    payload: unknown,
    options: { parent: RpcRequest; timeout?: number; deadline?: number },
    done: Done,
  ): void {
    if (to !== this.to) {
      this.endpoint.callThen(to, payload, options, done);
      return;
    }
    this.client.call(to, payload, options).onProcessed((e) => {
      const res = e.value!;
      if (res.ok && res.fallback) this.onFallback(options.parent);
      done(res);
    });
  }
}

/**
 * The q-quantile of a sample by the nearest rank (the smallest value with at least q of the sample at
 * or below it), for end-to-end figures kept per request.
 *
 * @example
 * ```ts
 * samplePercentile([3, 1, 2, 4], 0.5); // 2
 * ```
 */
export function samplePercentile(xs: readonly number[], q: number): number {
  const sorted = Float64Array.from(xs).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * A figure for a check's detail: `digits` decimals, or the value as is when it is not finite.
 *
 * @default digits 3
 * @example
 * ```ts
 * fmt(16.6349); // '16.635'
 * fmt(Infinity); // 'Infinity'
 * ```
 */
export const fmt = (x: number, digits = 3): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x));
