import {
  checkFunction,
  checkNumber,
  invalidOption,
  optionKeys,
  owner,
  requireOptions,
  type SimEvent,
  type Simulation,
} from '@dsim/core';
import type { CacheAccess } from './cache-access.js';
import type { LoadResult } from './cache-aside.js';

/** Options of {@link warmUp}. */
export interface WarmUpOptions<V> {
  /** The cache to fill. */
  readonly cache: CacheAccess<V>;
  /** The keys to load, hottest first (a warm-up that stops early has loaded what matters most). */
  readonly keys: Iterable<string>;
  /** Loads a key from the origin. */
  readonly load: (key: string) => SimEvent<LoadResult<V>>;
  /**
   * Loads in flight at once.
   * @default 8
   */
  readonly concurrency?: number;
  /**
   * Most loads started per second, so that warming does not overload the origin it protects.
   * @default Infinity
   */
  readonly rate?: number;
}

/** Every key of {@link WarmUpOptions}. @internal */
export const WARM_UP_KEYS = optionKeys<WarmUpOptions<unknown>>()({
  cache: true,
  keys: true,
  load: true,
  concurrency: true,
  rate: true,
});

/** What {@link warmUp} did. */
export interface WarmUpResult {
  readonly loaded: number;
  readonly failed: number;
  /** Time from start to the last answer (ms). */
  readonly durationMs: number;
}

/**
 * Warms a cache before it takes traffic (a restarted node, a new region): loads `keys` from the origin
 * at most `concurrency` at a time and at most `rate` per second, and stores them. A cold cache put into
 * rotation turns every read into an origin call at once (the `cache-flush` scenario); a warmed one
 * does not. Resolves when every key has been tried. The time it takes is about
 * max(⌈N / concurrency⌉ · load time, N / rate).
 *
 * @example
 * ```ts
 * const done = warmUp(sim, { cache: access, keys: hotKeys, load: (k) => db.call('db', k), concurrency: 16, rate: 500 });
 * done.onProcessed((e) => sim.log(`warmed ${e.value!.loaded} keys in ${e.value!.durationMs} ms`));
 * ```
 */
export function warmUp<V>(sim: Simulation, options: WarmUpOptions<V>): SimEvent<WarmUpResult> {
  const where = owner('warmUp');
  requireOptions(where, options, WARM_UP_KEYS);
  if (options.cache === null || typeof options.cache?.store !== 'function')
    throw invalidOption(
      where,
      'cache',
      options.cache,
      'a CacheAccess (LocalCacheAccess, RemoteCache or DistributedCache)',
    );
  const load = checkFunction<WarmUpOptions<V>['load']>(
    where,
    'load',
    options.load,
    '(key) => SimEvent<{ ok, value }>',
  );
  const concurrency = checkNumber(where, 'concurrency', options.concurrency, { integer: true, min: 1 }, 8);
  const rate = options.rate ?? Infinity;
  if (typeof rate !== 'number' || !(rate > 0))
    throw invalidOption(where, 'rate', options.rate, 'a number of loads per second > 0, or Infinity');
  const iterable = options.keys as unknown;
  if (
    // A string is iterable too, but its characters are not keys.
    iterable === null ||
    typeof iterable !== 'object' ||
    typeof (iterable as Iterable<string>)[Symbol.iterator] !== 'function'
  )
    throw invalidOption(where, 'keys', iterable, 'an iterable of keys (an array, a Set, a generator)');
  const keys = (iterable as Iterable<string>)[Symbol.iterator]();
  const gap = rate === Infinity ? 0 : 1000 / rate;
  const started = sim.now;
  const done = sim.event<WarmUpResult>();
  let inFlight = 0;
  let loaded = 0;
  let failed = 0;
  let exhausted = false;
  let nextStart = started;
  let waiting = false;
  const finish = (): void => {
    if (exhausted && inFlight === 0 && !done.triggered)
      done.succeed({ loaded, failed, durationMs: sim.now - started });
  };
  const pump = (): void => {
    waiting = false;
    while (!exhausted && inFlight < concurrency) {
      if (sim.now < nextStart) {
        if (!waiting) {
          waiting = true;
          sim.schedule(nextStart - sim.now, pump);
        }
        return;
      }
      const next = keys.next();
      if (next.done === true) {
        exhausted = true;
        break;
      }
      const key = next.value;
      nextStart = Math.max(nextStart, sim.now) + gap;
      inFlight++;
      load(key).onProcessed((e) => {
        inFlight--;
        const res = e.value!;
        if (res.ok) {
          loaded++;
          options.cache.store(key, res.value);
        } else failed++;
        pump();
      });
    }
    finish();
  };
  pump();
  return done;
}
