import {
  type CallOptions,
  type Counter,
  checkEnum,
  checkFunction,
  checkName,
  checkObject,
  checkOptions,
  type Gauge,
  invalidOption,
  type NetNode,
  optionKeys,
  type RpcEndpoint,
  type RpcError,
  type RpcErrorKind,
  type RpcRequest,
  type RpcResponse,
  type SimEvent,
} from '@dsim/core';
import { ConcurrencyLimiter } from './concurrency-limiter.js';
import type { LimitRejection } from './limit-proxy.js';
import { DEFAULT_DROP_ON, errorKindSet, releaseFor } from './outcome.js';

/**
 * Options of {@link LimitedCaller}. An unknown key is an error.
 *
 * @example
 * ```ts
 * const options: LimitedCallerOptions = { limiter: new ConcurrencyLimiter({ limit: new AimdLimit() }) };
 * ```
 */
export interface LimitedCallerOptions {
  /** The limiter that admits or refuses each outgoing call. Required. */
  limiter: ConcurrencyLimiter;
  /**
   * A call's partition or criticality, from its destination and options (e.g. the parent request's).
   * @default none
   */
  group?: (to: string, options: CallOptions | undefined) => string | undefined;
  /**
   * Error kind of a call refused locally. The library's gRPC client interceptor answers UNAVAILABLE
   * "Client concurrency limit reached".
   * @default 'unavailable'
   */
  rejectWith?: LimitRejection;
  /**
   * Error kinds of answers that count as drops; see {@link DEFAULT_DROP_ON}.
   * @default DEFAULT_DROP_ON
   */
  dropOn?: readonly RpcErrorKind[];
  /**
   * Id of the caller's metrics.
   * @default the endpoint's node address
   */
  name?: string;
}

const CALLER_KEYS = optionKeys<LimitedCallerOptions>()({
  limiter: true,
  group: true,
  rejectWith: true,
  dropOn: true,
  name: true,
});

const REJECTIONS: readonly LimitRejection[] = ['overloaded', 'unavailable', 'rejected'];

/**
 * A client-side concurrency limiter around an {@link RpcEndpoint}: Netflix concurrency-limits'
 * `ConcurrencyLimitClientInterceptor`. A call the limiter refuses fails locally with `rejectWith`,
 * answered one event later at the same time and never sent; an admitted call goes out and its answer's
 * round-trip time is the limiter's sample (see {@link releaseFor}). It has the endpoint's `call` and
 * `callThen`, so it fits a `Service`'s `downstream.client` (the calls a service makes to a dependency
 * are limited, and fail fast instead of holding workers when the dependency slows down).
 *
 * It records under its name the same metrics as {@link ConcurrencyLimitProxy}: gauges `limiter.limit`
 * and `limiter.inflight`, counters `limiter.admitted`, `limiter.rejected` and `limiter.dropped`.
 *
 * @example
 * ```ts
 * const limiter = new ConcurrencyLimiter({ limit: new AimdLimit({ initialLimit: 10, minLimit: 1, timeout: 100 }) });
 * new Service(net.addNode('b'), {
 *   concurrency: 32,
 *   serviceTime: 1,
 *   downstream: { calls: ['c'], client: (endpoint) => new LimitedCaller(endpoint, { limiter }) },
 * });
 * ```
 */
export class LimitedCaller {
  /** The endpoint calls go out from. */
  readonly endpoint: RpcEndpoint<any, any>;
  /** The endpoint's node. */
  readonly node: NetNode<any>;
  /** The limiter. */
  readonly limiter: ConcurrencyLimiter;
  private readonly group: ((to: string, options: CallOptions | undefined) => string | undefined) | undefined;
  private readonly rejectWith: LimitRejection;
  private readonly dropOn: ReadonlySet<RpcErrorKind>;
  private readonly meters: {
    limit: Gauge;
    inflight: Gauge;
    admitted: Counter;
    rejected: Counter;
    dropped: Counter;
  };
  private rejectedCount = 0;

  /**
   * @param endpoint - the caller's endpoint
   * @param options - see {@link LimitedCallerOptions}
   */
  constructor(endpoint: RpcEndpoint<any, any>, options: LimitedCallerOptions) {
    const C = 'LimitedCaller';
    if (endpoint === null || typeof endpoint !== 'object' || typeof endpoint.callThen !== 'function')
      throw invalidOption(C, 'endpoint', endpoint, 'an RpcEndpoint');
    checkObject(C, 'options', options, 'an options object with limiter');
    checkOptions(C, options, CALLER_KEYS);
    if (!(options.limiter instanceof ConcurrencyLimiter))
      throw invalidOption(C, 'limiter', options.limiter, 'a ConcurrencyLimiter');
    this.endpoint = endpoint;
    this.node = endpoint.node;
    this.limiter = options.limiter;
    this.group =
      options.group === undefined
        ? undefined
        : checkFunction(C, 'group', options.group, '(to, options) => partition or criticality');
    this.rejectWith = checkEnum(C, 'rejectWith', options.rejectWith ?? 'unavailable', REJECTIONS);
    this.dropOn = errorKindSet(C, 'dropOn', options.dropOn ?? DEFAULT_DROP_ON);
    const name = checkName(C, 'name', options.name ?? this.node.address);
    const m = this.node.network.sim.metrics;
    this.meters = {
      limit: m.gauge(name, 'limiter.limit'),
      inflight: m.gauge(name, 'limiter.inflight'),
      admitted: m.counter(name, 'limiter.admitted'),
      rejected: m.counter(name, 'limiter.rejected'),
      dropped: m.counter(name, 'limiter.dropped'),
    };
    this.meters.limit.set(this.limiter.limit);
  }

  /** Calls refused locally so far. */
  get rejected(): number {
    return this.rejectedCount;
  }

  /**
   * Calls `to` through the limiter; the event resolves with the answer, or with the local refusal.
   *
   * @example
   * ```ts
   * const res = yield* caller.call('db', 'GET', { timeout: 100 });
   * ```
   */
  call<R = unknown>(to: string, payload: unknown, options?: CallOptions): SimEvent<RpcResponse<R>> {
    const event = this.node.network.sim.event<RpcResponse<R>>();
    this.callThen<R>(to, payload, options, (response) => event.succeed(response));
    return event;
  }

  /**
   * The callback form of {@link LimitedCaller.call}: `done` runs inside the answer's event (an admitted
   * call) or in a timer event at the same time (a refusal: never inside the caller's own stack).
   */
  callThen<R = unknown>(
    to: string,
    payload: unknown,
    options: CallOptions | undefined,
    done: (response: RpcResponse<R>) => void,
  ): void {
    const sim = this.node.network.sim;
    const group = this.group === undefined ? undefined : this.group(to, options);
    const permit = this.limiter.acquire(sim.now, group);
    if (permit === undefined) {
      this.rejectedCount++;
      this.meters.rejected.inc();
      const response = this.refusal(to, payload, options);
      this.node.setTimer(0, () => done(response as RpcResponse<R>));
      return;
    }
    const meters = this.meters;
    meters.admitted.inc();
    meters.inflight.set(this.limiter.inflight);
    this.endpoint.callThen<R>(to, payload, options, (response) => {
      const error = response.ok ? null : response.error;
      if (error !== null && this.dropOn.has(error.kind)) meters.dropped.inc();
      releaseFor(permit, error, this.dropOn, sim.now);
      meters.inflight.set(this.limiter.inflight);
      if (this.limiter.limit !== meters.limit.level) meters.limit.set(this.limiter.limit);
      done(response);
    });
  }

  /** The answer to a call the limiter refused: its request as it would have been sent, latency 0. */
  private refusal(to: string, payload: unknown, options: CallOptions | undefined): RpcResponse<unknown> {
    const now = this.node.network.sim.now;
    const parent = options?.parent;
    let deadline = options?.deadline ?? parent?.deadline ?? Infinity;
    if (typeof options?.timeout === 'number') deadline = Math.min(deadline, now + options.timeout);
    const request: RpcRequest = {
      id: 0,
      from: this.node.address,
      to,
      payload,
      origin: parent?.origin ?? options?.origin ?? now,
      deadline,
      attempt: options?.attempt ?? 1,
      key: options?.key ?? parent?.key,
      size: options?.size ?? 0,
      sentAt: now,
    };
    const limiter = this.limiter;
    const error: RpcError = {
      kind: this.rejectWith,
      message: `${this.node.address}: client concurrency limit reached (${limiter.inflight} in flight, limit ${limiter.limit})`,
    };
    return { ok: false, error, latency: 0, request };
  }
}
