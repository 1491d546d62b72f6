import {
  checkEnum,
  checkKind,
  checkNumber,
  DsimError,
  type NumberRule,
  optionKeys,
  type RandomStream,
  showValue,
} from '@dsim/core';

/**
 * How long to wait before a retry. Formulas follow Brooker's backoff simulator (AWS Architecture Blog,
 * "Exponential Backoff And Jitter", 2015) where `n` is the retry number (1 for the first retry):
 *
 * - `none`: retry at once.
 * - `fixed`: always `delayMs` (resilience4j's default is 500 ms).
 * - `exponential` with `jitter`:
 *   - `none`: min(cap, base·2^n)
 *   - `full`: uniform(0, min(cap, base·2^n))
 *   - `equal`: v/2 + uniform(0, v/2) with v = min(cap, base·2^n)
 *   - `decorrelated`: min(cap, uniform(base, previous·3)), the first previous being base
 * - `envoy`: Envoy's current router backoff (`JitteredExponentialBackOffStrategy`): uniform(0, min(base·2^(n−1), max)),
 *   base 25 ms and max 250 ms by default: means 12.5, 25, 50, 100, 125 ms for retries 1 to 5.
 *
 * Delays are finite numbers of ms: `baseMs` > 0, `capMs` and `maxMs` >= `baseMs`, `delayMs` >= 0.
 *
 * @example
 * ```ts
 * const spec: BackoffSpec = { kind: 'envoy', baseMs: 25, maxMs: 250 };
 * ```
 */
export type BackoffSpec =
  | { kind: 'none' }
  | { kind: 'fixed'; delayMs: number }
  | { kind: 'exponential'; baseMs: number; capMs: number; jitter: 'none' | 'full' | 'equal' | 'decorrelated' }
  | { kind: 'envoy'; baseMs?: number; maxMs?: number };

/** A backoff policy: the delay before retry `n`. */
export interface Backoff {
  readonly spec: Readonly<BackoffSpec>;
  /**
   * Delay (ms) before retry `retry` (1 for the first retry). `previousMs` is the delay chosen before the
   * previous retry (decorrelated jitter needs it; ignored otherwise).
   */
  delay(retry: number, rng: RandomStream, previousMs?: number): number;
}

const JITTERS = ['none', 'full', 'equal', 'decorrelated'] as const;

const BACKOFF_KINDS = {
  none: optionKeys<Extract<BackoffSpec, { kind: 'none' }>>()({ kind: true }),
  fixed: optionKeys<Extract<BackoffSpec, { kind: 'fixed' }>>()({ kind: true, delayMs: true }),
  exponential: optionKeys<Extract<BackoffSpec, { kind: 'exponential' }>>()({
    kind: true,
    baseMs: true,
    capMs: true,
    jitter: true,
  }),
  envoy: optionKeys<Extract<BackoffSpec, { kind: 'envoy' }>>()({ kind: true, baseMs: true, maxMs: true }),
};

/**
 * Builds a {@link Backoff} from its spec, validating every field: an unknown kind or key is an error with
 * a "did you mean", and every delay must be a finite number of ms in range.
 *
 * @example
 * ```ts
 * const backoff = createBackoff({ kind: 'exponential', baseMs: 100, capMs: 20_000, jitter: 'full' });
 * const wait = backoff.delay(attempt, sim.rng('client/backoff'));
 * ```
 */
export function createBackoff(spec: BackoffSpec): Backoff {
  return resolveBackoff(spec, 'createBackoff', 'backoff');
}

/**
 * @internal {@link createBackoff} for a spec nested in another component's options: errors name that
 * component and the spec's path (`RetryingClient: backoff.capMs ...`).
 *
 * @example
 * ```ts
 * const backoff = resolveBackoff(options.backoff, 'RetryingClient', 'backoff');
 * ```
 */
export function resolveBackoff(spec: BackoffSpec, component: string, path: string): Backoff {
  const kind = checkKind(component, path, spec, BACKOFF_KINDS) as BackoffSpec['kind'];
  const ms = (field: string, value: unknown, rule: NumberRule): number =>
    checkNumber(component, `${path}.${field}`, value, { ...rule, unit: 'ms' });
  switch (kind) {
    case 'none':
      return {
        spec,
        delay(retry) {
          checkRetry(retry);
          return 0;
        },
      };
    case 'fixed': {
      const { delayMs } = spec as Extract<BackoffSpec, { kind: 'fixed' }>;
      ms('delayMs', delayMs, { min: 0 });
      return {
        spec,
        delay(retry) {
          checkRetry(retry);
          return delayMs;
        },
      };
    }
    case 'exponential': {
      const { baseMs, capMs, jitter } = spec as Extract<BackoffSpec, { kind: 'exponential' }>;
      ms('baseMs', baseMs, { above: 0 });
      ms('capMs', capMs, { min: baseMs });
      checkEnum(component, `${path}.jitter`, jitter, JITTERS);
      return {
        spec,
        delay(retry, rng, previousMs = baseMs) {
          checkRetry(retry);
          const v = Math.min(capMs, baseMs * 2 ** retry);
          switch (jitter) {
            case 'none':
              return v;
            case 'full':
              return rng.next() * v;
            case 'equal':
              return v / 2 + rng.next() * (v / 2);
            default: {
              const hi = Math.max(baseMs, previousMs * 3);
              return Math.min(capMs, baseMs + rng.next() * (hi - baseMs));
            }
          }
        },
      };
    }
    case 'envoy': {
      const envoy = spec as Extract<BackoffSpec, { kind: 'envoy' }>;
      const baseMs = ms('baseMs', envoy.baseMs ?? 25, { above: 0 });
      // Envoy rejects a max_interval below base_interval.
      const maxMs = ms('maxMs', envoy.maxMs ?? 10 * baseMs, { min: baseMs });
      return {
        spec,
        delay(retry, rng) {
          checkRetry(retry);
          return rng.next() * Math.min(baseMs * 2 ** (retry - 1), maxMs);
        },
      };
    }
  }
}

function checkRetry(retry: number): void {
  if (!Number.isInteger(retry) || retry < 1) {
    throw new DsimError(
      'INVALID_ARGUMENT',
      `retry must be an integer >= 1 (1 for the first retry), got ${showValue(retry)}`,
      {
        details: { field: 'retry', value: retry },
      },
    );
  }
}
