import {
  type CallOptions,
  type Counter,
  checkDuration,
  checkEnum,
  checkFunction,
  checkName,
  checkObject,
  checkOptions,
  type Duration,
  type Gauge,
  invalidOption,
  type NetNode,
  optionKeys,
  type Reply,
  RpcEndpoint,
  type RpcErrorKind,
  type RpcRequest,
  type RpcResponse,
} from '@dsim/core';
import { ConcurrencyLimiter } from './concurrency-limiter.js';
import { DEFAULT_DROP_ON, errorKindSet, releaseFor } from './outcome.js';

/**
 * How a limiter refuses a request: `overloaded` (HTTP 503, gRPC UNAVAILABLE: the library's gRPC server
 * interceptor answers UNAVAILABLE "Server concurrency limit reached"), `unavailable` (also 503), or
 * `rejected` (HTTP 429: the library's servlet filter answers 429 Too Many Requests).
 *
 * @example
 * ```ts
 * const kind: LimitRejection = 'rejected';
 * ```
 */
export type LimitRejection = 'overloaded' | 'unavailable' | 'rejected';

/**
 * Options of {@link ConcurrencyLimitProxy}. An unknown key is an error.
 *
 * @example
 * ```ts
 * const options: ConcurrencyLimitProxyOptions = { upstream: 'api', limiter, retryAfter: '50ms' };
 * ```
 */
export interface ConcurrencyLimitProxyOptions {
  /** Address of the service the proxy protects. Required. */
  upstream: string;
  /** The limiter that admits or refuses each request. Required. */
  limiter: ConcurrencyLimiter;
  /**
   * A request's partition or criticality, for a limiter with `partitions` or `criticality`.
   * @default none (every request in no group)
   */
  group?: (request: RpcRequest) => string | undefined;
  /**
   * Error kind of a refusal.
   * @default 'overloaded'
   */
  rejectWith?: LimitRejection;
  /**
   * A retry-after hint put on every refusal (`error.retryAfterMs`, HTTP `Retry-After`): a duration >= 0.
   * The library sets none.
   * @default none
   */
  retryAfter?: Duration;
  /**
   * Timeout of each forwarded call, a duration > 0 (the request's own deadline still applies). A call
   * that times out is answered `gateway-timeout`, or `deadline-exceeded` once the request's deadline has
   * passed.
   * @default none
   */
  timeout?: Duration;
  /**
   * Upstream error kinds that count as drops; see {@link DEFAULT_DROP_ON}.
   * @default DEFAULT_DROP_ON
   */
  dropOn?: readonly RpcErrorKind[];
  /**
   * Id of the proxy's metrics and traces.
   * @default the node's address
   */
  name?: string;
}

const PROXY_KEYS = optionKeys<ConcurrencyLimitProxyOptions>()({
  upstream: true,
  limiter: true,
  group: true,
  rejectWith: true,
  retryAfter: true,
  timeout: true,
  dropOn: true,
  name: true,
});

const REJECTIONS: readonly LimitRejection[] = ['overloaded', 'unavailable', 'rejected'];

/**
 * A server-side concurrency limiter in front of a service: a sidecar on its own node (Envoy's adaptive
 * concurrency filter sits there; with a zero-latency link to the service it is the in-process filter of
 * Netflix concurrency-limits, its gRPC `ConcurrencyLimitServerInterceptor` or servlet filter). Each
 * request asks the {@link ConcurrencyLimiter}; a refused one is answered at once with `rejectWith` and
 * the `retryAfter` hint, an admitted one is forwarded to `upstream` (its deadline propagated) and the
 * answer passed back. The answer's round-trip time at the proxy is the limiter's sample: a success, a
 * drop (`dropOn`), or ignored (see {@link releaseFor}). Every request is answered exactly once.
 *
 * It records under its name: gauges `limiter.limit` and `limiter.inflight` (series of the limit over
 * time), counters `limiter.admitted`, `limiter.rejected` and `limiter.dropped`. With tracing on it emits
 * `@dsim.limiter.reject` `{ limiter, id, from, limit, inflight, group }`.
 *
 * @example
 * ```ts
 * new Service(net.addNode('api'), { concurrency: 8, serviceTime: exponential({ mean: 10 }) });
 * const limiter = new ConcurrencyLimiter({ limit: new Gradient2Limit({ minLimit: 1, initialLimit: 8 }) });
 * new ConcurrencyLimitProxy(net.addNode('api-limit'), { upstream: 'api', limiter });
 * // clients call 'api-limit'
 * ```
 */
export class ConcurrencyLimitProxy {
  /** The proxy's endpoint (it serves clients and calls the upstream). */
  readonly endpoint: RpcEndpoint;
  /** The limiter. */
  readonly limiter: ConcurrencyLimiter;
  /** Address of the protected service. */
  readonly upstream: string;
  /** Id of metrics and traces. */
  readonly name: string;
  private readonly group: ((request: RpcRequest) => string | undefined) | undefined;
  private readonly rejectWith: LimitRejection;
  private readonly retryAfter: { retryAfter: number } | undefined;
  private readonly timeoutMs: number | undefined;
  private readonly dropOn: ReadonlySet<RpcErrorKind>;
  private readonly meters: {
    limit: Gauge;
    inflight: Gauge;
    admitted: Counter;
    rejected: Counter;
    dropped: Counter;
  };

  /**
   * @param node - the proxy's node; clients send to its address
   * @param options - see {@link ConcurrencyLimitProxyOptions}
   */
  constructor(
    readonly node: NetNode<any>,
    options: ConcurrencyLimitProxyOptions,
  ) {
    const C = 'ConcurrencyLimitProxy';
    checkObject(C, 'options', options, 'an options object with upstream and limiter');
    checkOptions(C, options, PROXY_KEYS);
    this.upstream = checkName(C, 'upstream', options.upstream);
    if (!(options.limiter instanceof ConcurrencyLimiter))
      throw invalidOption(C, 'limiter', options.limiter, 'a ConcurrencyLimiter');
    this.limiter = options.limiter;
    this.name = checkName(C, 'name', options.name ?? node.address);
    this.group =
      options.group === undefined
        ? undefined
        : checkFunction(C, 'group', options.group, '(request) => partition or criticality');
    this.rejectWith = checkEnum(C, 'rejectWith', options.rejectWith ?? 'overloaded', REJECTIONS);
    this.retryAfter =
      options.retryAfter === undefined
        ? undefined
        : { retryAfter: checkDuration(C, 'retryAfter', options.retryAfter) };
    this.timeoutMs =
      options.timeout === undefined
        ? undefined
        : checkDuration(C, 'timeout', options.timeout, { positive: true });
    this.dropOn = errorKindSet(C, 'dropOn', options.dropOn ?? DEFAULT_DROP_ON);
    const m = node.network.sim.metrics;
    this.meters = {
      limit: m.gauge(this.name, 'limiter.limit'),
      inflight: m.gauge(this.name, 'limiter.inflight'),
      admitted: m.counter(this.name, 'limiter.admitted'),
      rejected: m.counter(this.name, 'limiter.rejected'),
      dropped: m.counter(this.name, 'limiter.dropped'),
    };
    this.meters.limit.set(this.limiter.limit);
    this.endpoint = new RpcEndpoint(node).serve((request, reply) => this.arrive(request, reply));
  }

  private arrive(request: RpcRequest, reply: Reply<unknown>): void {
    const sim = this.node.network.sim;
    const limiter = this.limiter;
    const group = this.group === undefined ? undefined : this.group(request);
    const permit = limiter.acquire(sim.now, group);
    if (permit === undefined) {
      this.meters.rejected.inc();
      if (sim.tracing)
        sim.emit('@dsim.limiter.reject', {
          limiter: this.name,
          id: request.id,
          from: request.from,
          limit: limiter.limit,
          inflight: limiter.inflight,
          group: group ?? null,
        });
      reply.error(
        this.rejectWith,
        `${this.name}: concurrency limit reached (${limiter.inflight} in flight, limit ${limiter.limit})`,
        this.retryAfter,
      );
      return;
    }
    this.meters.admitted.inc();
    this.meters.inflight.set(limiter.inflight);
    const options: CallOptions = { parent: request, size: request.size };
    if (this.timeoutMs !== undefined) options.timeout = this.timeoutMs;
    if (request.key !== undefined) options.key = request.key;
    this.endpoint.callThen(this.upstream, request.payload, options, (res: RpcResponse<unknown>) => {
      const now = sim.now;
      const error = res.ok ? null : res.error;
      if (error !== null && this.dropOn.has(error.kind)) this.meters.dropped.inc();
      releaseFor(permit, error, this.dropOn, now);
      this.meters.inflight.set(limiter.inflight);
      if (limiter.limit !== this.meters.limit.level) this.meters.limit.set(limiter.limit);
      if (error === null) {
        reply.ok((res as { value: unknown }).value);
        return;
      }
      let kind = error.kind;
      if (kind === 'timeout')
        kind =
          request.deadline !== Infinity && now >= request.deadline ? 'deadline-exceeded' : 'gateway-timeout';
      reply.error(
        kind as Exclude<RpcErrorKind, 'timeout'>,
        error.message,
        error.retryAfterMs === undefined ? undefined : { retryAfter: error.retryAfterMs },
      );
    });
  }
}
