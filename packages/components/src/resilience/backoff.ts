import { DsimError, invalidArgument, type RandomStream, showValue } from '@dsim/core';

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

/**
 * Builds a {@link Backoff} from its spec, validating every field.
 *
 * @example
 * ```ts
 * const backoff = createBackoff({ kind: 'exponential', baseMs: 100, capMs: 20_000, jitter: 'full' });
 * const wait = backoff.delay(attempt, sim.rng('client/backoff'));
 * ```
 */
export function createBackoff(spec: BackoffSpec): Backoff {
  if (spec === null || typeof spec !== 'object') {
    throw invalidArgument('backoff', spec, 'an object with kind "none", "fixed", "exponential" or "envoy"');
  }
  switch (spec.kind) {
    case 'none':
      return {
        spec,
        delay(retry) {
          checkRetry(retry);
          return 0;
        },
      };
    case 'fixed': {
      nonNegative('backoff.delayMs', spec.delayMs);
      return {
        spec,
        delay(retry) {
          checkRetry(retry);
          return spec.delayMs;
        },
      };
    }
    case 'exponential': {
      const { baseMs, capMs, jitter } = spec;
      positive('backoff.baseMs', baseMs);
      positive('backoff.capMs', capMs);
      if (capMs < baseMs) throw invalidArgument('backoff.capMs', capMs, `a number >= baseMs (${baseMs})`);
      if (!['none', 'full', 'equal', 'decorrelated'].includes(jitter)) {
        throw invalidArgument('backoff.jitter', jitter, 'one of "none", "full", "equal", "decorrelated"');
      }
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
      const baseMs = spec.baseMs ?? 25;
      positive('backoff.baseMs', baseMs);
      const maxMs = spec.maxMs ?? 10 * baseMs;
      positive('backoff.maxMs', maxMs);
      return {
        spec,
        delay(retry, rng) {
          checkRetry(retry);
          return rng.next() * Math.min(baseMs * 2 ** (retry - 1), maxMs);
        },
      };
    }
    default:
      throw invalidArgument(
        'backoff.kind',
        (spec as { kind: unknown }).kind,
        'one of "none", "fixed", "exponential", "envoy"',
      );
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

function positive(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw invalidArgument(field, value, 'a finite number of ms > 0');
}

function nonNegative(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw invalidArgument(field, value, 'a finite number of ms >= 0');
}
