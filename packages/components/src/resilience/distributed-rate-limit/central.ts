import {
  type CallOptions,
  checkDuration,
  checkEnum,
  checkName,
  type Duration,
  invalidOption,
  optionKeys,
  RpcEndpoint,
  type RpcResponse,
  requireOptions,
} from '@dsim/core';
import type { RateLimitStoreRequest } from './store.js';
import {
  type AdmitDecision,
  checkKey,
  type DistributedLimiter,
  type DistributedLimiterStats,
} from './types.js';

/**
 * Options of {@link CentralLimiter}; an unknown key is an error (with a "did you mean").
 *
 * @example
 * ```ts
 * const options: CentralLimiterOptions = { store: 'ratelimit', timeout: '20ms', failureMode: 'open' };
 * ```
 */
export interface CentralLimiterOptions {
  /** Address of the {@link RateLimitStore}'s node. */
  store: string;
  /**
   * How long the instance waits for the store's answer before applying `failureMode`. A duration > 0.
   * @default 20 ms (Envoy's rate limit filter: "The timeout in milliseconds for the rate limit service
   *   RPC. If not set, this defaults to 20ms.")
   */
  timeout?: Duration;
  /**
   * What a request gets when the store cannot answer (timeout, unreachable, overloaded, an error):
   * `'open'` admits it, `'closed'` rejects it.
   * @default 'open' (Envoy's `failure_mode_deny` is false by default: on an error calling the rate limit
   *   service the request is allowed and counted as `failure_mode_allowed`)
   */
  failureMode?: 'open' | 'closed';
}

const C = 'CentralLimiter';
const KEYS = optionKeys<CentralLimiterOptions>()({ store: true, timeout: true, failureMode: true });

/**
 * Global rate limiting through a central counter store, as Envoy's `ratelimit` filter does: every request
 * waits for a `check` call to the {@link RateLimitStore} (envoyproxy/ratelimit keeps its counters in
 * Redis) and is admitted or rejected by the store's count, so the limit holds exactly across any number
 * of instances, whatever the load's spread. The price:
 *
 * - every request waits one round trip to the store (plus its queueing and service time);
 * - the store serves every request of every instance: its load is the whole request rate;
 * - when the store is down, partitioned away or slow, each request waits the full `timeout` and then
 *   `failureMode` decides: fail open admits everything (no limit at all while it lasts), fail closed
 *   rejects everything (an outage of the limiter becomes an outage of the service).
 *
 * The call is made from the instance's node through its {@link RpcEndpoint}, so network faults,
 * latency and the store's queue all act on it. The decision's `latencyMs` is the call's.
 *
 * @example
 * ```ts
 * new RateLimitStore(net.addNode('ratelimit'), { limiter: { kind: 'fixed-window', limit: 100, windowMs: 1000 } });
 * const limiter = new CentralLimiter(RpcEndpoint.of(net.addNode('envoy-0')), { store: 'ratelimit' });
 * limiter.admit('client', (d) => sim.log(`${d.reason} after ${d.latencyMs} ms`));
 * ```
 */
export class CentralLimiter implements DistributedLimiter {
  readonly kind = 'central';
  /** Address of the store. */
  readonly store: string;
  /** The check's timeout, ms. */
  readonly timeoutMs: number;
  /** What a request gets when the store cannot answer. */
  readonly failureMode: 'open' | 'closed';
  private readonly options: CallOptions;
  private admitted = 0;
  private rejected = 0;
  private pending = 0;
  private failedOpen = 0;
  private failedClosed = 0;
  private calls = 0;

  /**
   * @param endpoint - the instance's endpoint (`RpcEndpoint.of(node)`), which the checks are sent from
   * @param options - see {@link CentralLimiterOptions}; bad values throw INVALID_ARGUMENT naming the field
   */
  constructor(
    readonly endpoint: RpcEndpoint,
    options: CentralLimiterOptions,
  ) {
    if (!(endpoint instanceof RpcEndpoint))
      throw invalidOption(C, 'endpoint', endpoint, 'an RpcEndpoint (RpcEndpoint.of(node))');
    requireOptions(C, options, KEYS);
    this.store = checkName(C, 'store', options.store);
    this.timeoutMs = checkDuration(C, 'timeout', options.timeout, { positive: true }, 20);
    this.failureMode = checkEnum(C, 'failureMode', options.failureMode, ['open', 'closed'], 'open');
    this.options = { timeout: this.timeoutMs };
  }

  /** Decisions so far. */
  get stats(): DistributedLimiterStats {
    return {
      admitted: this.admitted,
      rejected: this.rejected,
      pending: this.pending,
      failedOpen: this.failedOpen,
      failedClosed: this.failedClosed,
      storeCalls: this.calls,
    };
  }

  admit(key: string, done: (decision: AdmitDecision) => void): void {
    checkKey(C, key);
    this.calls++;
    this.pending++;
    const request: RateLimitStoreRequest = { op: 'check', key };
    this.endpoint.callThen(this.store, request, this.options, (response: RpcResponse<boolean>) => {
      this.pending--;
      done(this.decide(response));
    });
  }

  private decide(response: RpcResponse<boolean>): AdmitDecision {
    const latencyMs = response.latency;
    if (response.ok) {
      if (response.value) {
        this.admitted++;
        return { allowed: true, reason: 'under-limit', latencyMs };
      }
      this.rejected++;
      return { allowed: false, reason: 'over-limit', latencyMs };
    }
    if (this.failureMode === 'open') {
      this.admitted++;
      this.failedOpen++;
      return { allowed: true, reason: 'fail-open', latencyMs };
    }
    this.rejected++;
    this.failedClosed++;
    return { allowed: false, reason: 'fail-closed', latencyMs };
  }
}
