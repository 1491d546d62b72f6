import { checkBoolean, checkObject, checkOptions, invalidOption, optionKeys } from '@dsim/core';

/**
 * Hedging at the balancer, Envoy's route `hedge_policy` with `hedge_on_per_try_timeout: true`
 * (https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-hedgepolicy).
 * When an attempt's `retry.perTryTimeout` fires, the attempt is not cancelled: another attempt (a hedge)
 * is sent, after the retry backoff, to a newly picked backend (`retry.previousHosts` steers it away from
 * the backends already tried), and the first successful answer wins. The attempts still outstanding then
 * are abandoned: the balancer stops counting them, ignores their answers, and the backends still do
 * their work (`lb.hedge.abandoned`).
 *
 * Hedges are retries, as in Envoy: each one counts against `retry.attempts` and the concurrent-retry
 * limit or `retry.budget`, whatever `retry.retryOn` says (Envoy always hedges a per-try timeout when a
 * retry is left). An error from an attempt that was hedged is not retried; an error while another
 * attempt of the same request is outstanding (or a hedge is waiting for its backoff) is discarded, and
 * the caller gets an error only when the last attempt fails. The route `timeout` bounds every attempt.
 *
 * Requires `retry` with a finite `perTryTimeout`.
 *
 * @example
 * ```ts
 * new LoadBalancer(net.addNode('lb'), {
 *   backends: ['a', 'b', 'c'],
 *   timeout: '1s',
 *   retry: { attempts: 2, perTryTimeout: '50ms' },
 *   hedge: { onPerTryTimeout: true },
 * });
 * ```
 */
export interface LoadBalancerHedgeOptions {
  /**
   * Envoy's `hedge_on_per_try_timeout`: send a hedge when an attempt's per-try timeout fires, instead
   * of cancelling the attempt and retrying. `false` is the same as leaving `hedge` out.
   * @default false
   */
  onPerTryTimeout?: boolean;
}

/**
 * {@link LoadBalancerHedgeOptions}, validated.
 *
 * @example
 * ```ts
 * resolveLbHedge({ onPerTryTimeout: true }, 250); // { onPerTryTimeout: true }
 * ```
 */
export interface ResolvedLbHedge {
  readonly onPerTryTimeout: boolean;
}

const HEDGE_KEYS = optionKeys<LoadBalancerHedgeOptions>()({ onPerTryTimeout: true });

const C = 'LoadBalancer';

/**
 * Checks the `hedge` option of a LoadBalancer (unknown keys with "did you mean", every value) against
 * the resolved `retry.perTryTimeout` (undefined without `retry`). Returns undefined when hedging is off.
 *
 * @example
 * ```ts
 * resolveLbHedge({ onPerTryTimout: true } as never, 50);
 * // LoadBalancer: unknown option "hedge.onPerTryTimout" (did you mean "hedge.onPerTryTimeout"?) ...
 * resolveLbHedge({ onPerTryTimeout: true }, undefined);
 * // LoadBalancer: hedge.onPerTryTimeout needs retry.perTryTimeout ...
 * ```
 */
export function resolveLbHedge(
  options: LoadBalancerHedgeOptions | undefined,
  perTryTimeout: number | undefined,
): ResolvedLbHedge | undefined {
  if (options === undefined) return undefined;
  checkObject(C, 'hedge', options, 'a hedge options object such as { onPerTryTimeout: true }');
  checkOptions(C, options, HEDGE_KEYS, 'hedge');
  const onPerTryTimeout = checkBoolean(C, 'hedge.onPerTryTimeout', options.onPerTryTimeout, false);
  if (!onPerTryTimeout) return undefined;
  if (perTryTimeout === undefined || perTryTimeout === Infinity)
    throw invalidOption(
      C,
      'hedge.onPerTryTimeout',
      true,
      'false, unless retry.perTryTimeout is set: a hedge is sent when the per-try timeout fires (add retry: { perTryTimeout: "50ms" })',
    );
  return { onPerTryTimeout };
}
