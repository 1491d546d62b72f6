import {
  AimdLimit,
  type ConcurrencyLimit,
  ConcurrencyLimiter,
  CRITICALITIES,
  type Criticality,
  type CriticalityShares,
  DEFAULT_DROP_ON,
  FixedLimit,
  Gradient2Limit,
  type LimiterPermit,
  type Service,
  VegasLimit,
} from '@dsim/components';
import {
  type Counter,
  DsimError,
  type Gauge,
  type Reply,
  type ReplyErrorOptions,
  type RpcErrorKind,
  type RpcRequest,
  type Simulation,
} from '@dsim/core';
import { clean } from './clean.js';
import type { ConcurrencyLimitDescription } from './concurrency-limit-schema.js';

type Handler = (request: RpcRequest, reply: Reply<unknown>) => void;

const DROP_ON: ReadonlySet<RpcErrorKind> = new Set(DEFAULT_DROP_ON);

/**
 * The limit algorithm a description names, with the components' defaults for what it leaves out. Vegas
 * draws its probe jitter from the stream `<address>/limit`.
 *
 * @example
 * ```ts
 * const limit = limitAlgorithm(sim, 'api', { limit: 'aimd', minLimit: 1 });
 * ```
 */
export function limitAlgorithm(
  sim: Simulation,
  address: string,
  d: ConcurrencyLimitDescription,
): ConcurrencyLimit {
  const { limit, rejectWith: _r, retryAfter: _h, criticality: _c, ...options } = d;
  switch (limit) {
    case 'fixed':
      return new FixedLimit(d.max);
    case 'aimd':
      return new AimdLimit(clean(options as object));
    case 'gradient2':
      return new Gradient2Limit(clean(options as object));
    case 'vegas':
      return new VegasLimit({ rng: sim.rng(`${address}/limit`), ...clean(options as object) });
  }
}

/**
 * A service replica's limit, hosted in its node.
 *
 * @example
 * ```ts
 * hostLimit(service, algorithm, 'overloaded').limiter.stats.rejected;
 * ```
 */
export interface HostedLimit {
  /** The limiter now (a crash replaces it: a restarted process starts from its initial limit). */
  limiter: ConcurrencyLimiter;
}

/**
 * Puts a {@link ConcurrencyLimiter} in front of `service`'s workers, in the service's own node: the
 * in-process filter of Netflix concurrency-limits (its servlet filter or gRPC
 * `ConcurrencyLimitServerInterceptor`), which is {@link ConcurrencyLimitProxy} with a zero-latency link
 * to the service, so callers and balancers keep addressing the service itself. A refused request is
 * answered at once with `rejectWith` (and the `retryAfterMs` hint, if given) and never reaches the
 * queue; an admitted one holds its permit until the service answers it, and the time from arrival to
 * answer (queue and service) is the limit's sample, released as the proxy does: ok or `error` is a
 * success, a kind in DEFAULT_DROP_ON a drop, anything else ignored. A crash loses the process and its
 * limiter: the next one starts afresh. With `classes` the limiter admits by criticality, each request's
 * level read by `classes.of`.
 *
 * It records under the service's address the proxy's metrics: counters `limiter.admitted` and
 * `limiter.rejected`, gauges `limiter.limit` and `limiter.inflight`; with `classes` (admission by
 * criticality, the SRE book's "Handling Overload") also `limiter.admitted.<LEVEL>` and
 * `limiter.rejected.<LEVEL>` per criticality.
 *
 * @example
 * ```ts
 * hostLimit(service, () => limitAlgorithm(sim, 'api', { limit: 'fixed', max: 8 }), 'overloaded');
 * ```
 */
export function hostLimit(
  service: Service,
  algorithm: () => ConcurrencyLimit,
  rejectWith: 'overloaded' | 'unavailable' | 'rejected',
  retryAfterMs?: number,
  classes?: LimitClasses,
): HostedLimit {
  const node = service.node;
  const endpoint = service.endpoint;
  // The filter takes the service's handler's place and calls it for what it admits.
  const inner = endpoint.serving;
  if (typeof inner !== 'function')
    throw new DsimError('INVALID_STATE', `concurrencyLimit: ${node.address} serves no requests to limit`);
  const serve = inner as Handler;
  const sim = node.network.sim;
  const m = sim.metrics;
  const meters: Meters = {
    admitted: m.counter(node.address, 'limiter.admitted'),
    rejected: m.counter(node.address, 'limiter.rejected'),
    limit: m.gauge(node.address, 'limiter.limit'),
    inflight: m.gauge(node.address, 'limiter.inflight'),
  };
  // As the proxy's: one hint object shared by every refusal.
  const hint = retryAfterMs === undefined ? undefined : { retryAfter: retryAfterMs };
  const make = () =>
    new ConcurrencyLimiter({
      limit: algorithm(),
      name: `${node.address}/limit`,
      ...(classes === undefined ? {} : { criticality: classes.shares }),
    });
  // Per level, in CRITICALITIES order: `limiter.admitted.<LEVEL>`, `limiter.rejected.<LEVEL>`.
  const byLevel =
    classes === undefined
      ? undefined
      : new Map(
          CRITICALITIES.map((c) => [
            c,
            {
              admitted: m.counter(node.address, `limiter.admitted.${c}`),
              rejected: m.counter(node.address, `limiter.rejected.${c}`),
            },
          ]),
        );
  const levelOf = classes?.of;
  const hosted = { limiter: make() };
  meters.limit.set(hosted.limiter.limit);
  node.onCrash(() => {
    hosted.limiter = make();
    meters.limit.set(hosted.limiter.limit);
    meters.inflight.set(0);
  });
  endpoint.serve((request, reply) => {
    const limiter = hosted.limiter;
    // The limiter's own default for a request without a level.
    const level = levelOf === undefined ? undefined : (levelOf(request) ?? 'CRITICAL');
    const permit = limiter.acquire(sim.now, level);
    const counters = level === undefined ? undefined : byLevel!.get(level)!;
    if (permit === undefined) {
      meters.rejected.inc();
      counters?.rejected.inc();
      reply.error(
        rejectWith,
        `${node.address}: concurrency limit reached (${limiter.inflight} in flight, limit ${limiter.limit})`,
        hint,
      );
      return;
    }
    meters.admitted.inc();
    counters?.admitted.inc();
    meters.inflight.set(limiter.inflight);
    serve(request, new LimitedReply(reply, permit, limiter, hosted, meters, () => sim.now));
  });
  return hosted;
}

/**
 * A hosted limit's admission by criticality: the shares (ConcurrencyLimiter's `criticality`) and how a
 * request's level is read (undefined: `CRITICAL`).
 *
 * @example
 * ```ts
 * const classes: LimitClasses = { shares: true, of: (request) => tags.of(request.payload) };
 * ```
 */
export interface LimitClasses {
  readonly shares: true | Partial<CriticalityShares>;
  readonly of: (request: RpcRequest) => Criticality | undefined;
}

interface Meters {
  admitted: Counter;
  rejected: Counter;
  limit: Gauge;
  inflight: Gauge;
}

/** An admitted request's reply: answering it releases the permit first. */
class LimitedReply implements Reply<unknown> {
  constructor(
    private readonly reply: Reply<unknown>,
    private readonly permit: LimiterPermit,
    private readonly limiter: ConcurrencyLimiter,
    private readonly hosted: HostedLimit,
    private readonly meters: Meters,
    private readonly now: () => number,
  ) {}

  ok(value: unknown, options?: { size?: number }): void {
    this.permit.success(this.now());
    this.settled();
    this.reply.ok(value, options);
  }

  error(kind: Exclude<RpcErrorKind, 'timeout'>, message?: string, options?: ReplyErrorOptions): void {
    const now = this.now();
    // As the proxy's releaseFor: a handler error did the work (a real sample); 429s did none.
    if (DROP_ON.has(kind)) this.permit.dropped(now);
    else if (kind === 'error') this.permit.success(now);
    else this.permit.ignore();
    this.settled();
    this.reply.error(kind, message, options);
  }

  private settled(): void {
    const limiter = this.limiter;
    // A request admitted before a crash belongs to the lost process's limiter: not the gauges' one.
    if (limiter !== this.hosted.limiter) return;
    this.meters.inflight.set(limiter.inflight);
    if (limiter.limit !== this.meters.limit.level) this.meters.limit.set(limiter.limit);
  }
}
