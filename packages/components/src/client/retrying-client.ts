import {
  type CallOptions,
  type Counter,
  checkCallOptions,
  checkDuration,
  checkEnum,
  checkFunction,
  checkKind,
  checkName,
  checkNumber,
  checkObject,
  checkOptions,
  type Duration,
  type Gauge,
  type Histogram,
  invalidArgument,
  invalidOption,
  type NetNode,
  type NodeTimer,
  optionKeys,
  type RandomStream,
  RPC_ERROR_KINDS,
  type RpcEndpoint,
  type RpcError,
  type RpcErrorKind,
  type RpcRequest,
  type RpcResponse,
  type SimEvent,
  type Simulation,
} from '@dsim/core';
import { type Backoff, type BackoffSpec, resolveBackoff } from '../resilience/backoff.js';
import type { CircuitBreaker } from '../resilience/circuit-breaker.js';
import {
  AdaptiveThrottle,
  EnvoyRetryBudget,
  type QuotaErrorClass,
  RetryQuota,
} from '../resilience/retry-budget.js';
import { checkRatioBudget, RatioRetryBudget } from './ratio-budget.js';
import {
  type ClientFailure,
  type ClientResponse,
  DEFAULT_RETRY_ON,
  type GiveUpReason,
  type HedgeOptions,
  type RatioBudgetSpec,
  type RetryingCallOptions,
  type RetryingClientOptions,
  type RetryingClientStats,
} from './types.js';

export { RatioRetryBudget, type RatioRetryBudgetOptions } from './ratio-budget.js';
export {
  type ClientFailure,
  type ClientFallback,
  type ClientResponse,
  type ClientResponseBase,
  type ClientSuccess,
  DEFAULT_RETRY_ON,
  type GiveUpReason,
  type HedgeOptions,
  type RatioBudgetSpec,
  type RetryBudgetOption,
  type RetryingCallOptions,
  type RetryingClientOptions,
  type RetryingClientStats,
} from './types.js';

// ---------------------------------------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------------------------------------

const C = 'RetryingClient';

const OPTION_KEYS = optionKeys<RetryingClientOptions>()({
  name: true,
  timeout: true,
  totalTimeout: true,
  maxAttempts: true,
  backoff: true,
  retryOn: true,
  budget: true,
  hedge: true,
  breaker: true,
  breakerIgnores: true,
  fallback: true,
  target: true,
  onAttempt: true,
  retryAfter: true,
});

const RETRY_AFTER_MODES = ['ignore', 'at-least', 'pushback'] as const;
const IGNORE_HINT = 0;
const AT_LEAST = 1;
const PUSHBACK = 2;

const HEDGE_KEYS = optionKeys<HedgeOptions>()({ after: true, maxHedges: true });

const NO_CALL_OPTIONS: RetryingCallOptions = Object.freeze({});
const CALL_KEYS = optionKeys<RetryingCallOptions>()({
  key: true,
  parent: true,
  size: true,
  timeout: true,
  deadline: true,
});

const FIRST = 0;
const RETRY = 1;
const HEDGE = 2;
type AttemptKind = typeof FIRST | typeof RETRY | typeof HEDGE;

const NO_BUDGET = 0;
const QUOTA = 1;
const ENVOY = 2;
const THROTTLE = 3;
const RATIO = 4;

/** One attempt the call is still waiting for. */
interface Attempt {
  /** A retry or a hedge: holds one of the client's active-retry slots (Envoy accounting). */
  readonly extra: boolean;
}

/**
 * State of one call. Its closures are made once per call (lazily for timers), and one per attempt: the
 * callback that takes the attempt's answer inside the response's event (`RpcEndpoint.callThen`).
 */
class ClientCall<R> {
  done = false;
  attempts = 0;
  retries = 0;
  hedges = 0;
  /** Tokens paid to the AWS quota for the last retry or hedge (0: none, a success then refunds +1). */
  quotaCost = 0;
  lastDelay: number | undefined = undefined;
  readonly outstanding: Attempt[] = [];
  retryTimer: NodeTimer | null = null;
  hedgeTimer: NodeTimer | null = null;
  retryFn: (() => void) | null = null;
  hedgeFn: (() => void) | null = null;
  /** The failure the call ends with if nothing better comes. */
  failError: RpcError | null = null;
  failReason: GiveUpReason = 'exhausted';
  lastRequest: RpcRequest | undefined = undefined;

  constructor(
    readonly id: number,
    readonly to: string,
    readonly payload: unknown,
    readonly options: RetryingCallOptions,
    readonly start: number,
    readonly deadline: number,
    readonly event: SimEvent<ClientResponse<R>>,
  ) {}
}

/**
 * How the AWS quota prices a retry after `kind`: its timeout cost is for the client's own timeouts and
 * throttling; a 504 from a gateway is a transient 5xx like 503 and pays the plain retry cost.
 */
function quotaClass(kind: RpcErrorKind | null): QuotaErrorClass {
  if (kind === 'timeout') return 'timeout';
  if (kind === 'overloaded' || kind === 'rejected') return 'throttle';
  return 'other';
}

/** The backend accepted the request (SRE adaptive throttling's `accepts`): it answered ok or with a handler error. */
function accepted(response: RpcResponse<unknown>): boolean {
  return response.ok || response.error.kind === 'error';
}

/**
 * An RPC client with the usual resilience stack over one {@link RpcEndpoint}: per-attempt and total
 * timeouts, retries of chosen error kinds with backoff and jitter, a retry budget (AWS SDK quota, Envoy
 * budget, SRE adaptive throttling or Finagle's ratio budget), hedged requests, a circuit breaker and a
 * fallback. Each `call()` resolves exactly once to a {@link ClientResponse}, never to an exception.
 *
 * The order of checks mirrors a filter stack with the retry logic on top: a retry is decided (retryOn,
 * maxAttempts, deadline, budget) when an attempt fails and sent after its backoff; every attempt then
 * passes the circuit breaker and the adaptive throttle before it is sent. A retry or hedge the budget paid
 * for but the breaker or throttle then refused keeps its cost, as it would with the budget filter above
 * the breaker. Hedged calls follow gRPC's hedging: the first success wins, a retryable failure makes room
 * for a retry (backoff applies), a non-retryable failure ends the call at once, and the call waits for the
 * other outstanding attempts before giving up.
 *
 * It records under its name: counters `client.requests`, `client.ok`, `client.failed`, `client.attempts`,
 * `client.retries`, `client.hedges`, `client.budget-denied`, `client.breaker-rejected`, `client.fallbacks`;
 * gauge `client.inflight`; histogram `client.latency` (every call, failures included). With tracing on it
 * emits `@dsim.client.retry` `{ client, id, attempt, delay, error }`, `@dsim.client.hedge`
 * `{ client, id, attempt }` and `@dsim.client.give-up` `{ client, id, reason, error, attempts, fallback }`.
 *
 * @example
 * ```ts
 * const client = new RetryingClient(new RpcEndpoint(net.addNode('app')), {
 *   timeout: '100ms',
 *   maxAttempts: 3,
 *   backoff: { kind: 'exponential', baseMs: 25, capMs: 1000, jitter: 'full' },
 *   budget: new RetryQuota(),
 *   hedge: { after: '50ms' },
 * });
 * sim.process(function* () {
 *   const res = yield* client.call('db', 'GET', { key: 'user:1' });
 *   if (!res.ok) sim.log(`${res.error.kind} after ${res.attempts} attempts (${res.reason})`);
 * });
 * ```
 */
export class RetryingClient<R = unknown> {
  /** The endpoint attempts are sent from. */
  readonly endpoint: RpcEndpoint<any, any>;
  /** Id of the client's metrics, traces and random stream. */
  readonly name: string;
  /** Attempts per call, the first included. */
  readonly maxAttempts: number;
  /** Per-attempt timeout (local ms), or undefined for none. */
  readonly timeoutMs: number | undefined;
  /** Total timeout (local ms), or undefined for none. */
  readonly totalTimeoutMs: number | undefined;
  /** Retried error kinds. */
  readonly retryOn: ReadonlySet<RpcErrorKind>;
  /** The budget in use (a {@link RatioBudgetSpec} is turned into its {@link RatioRetryBudget}). */
  readonly budget: RetryQuota | EnvoyRetryBudget | AdaptiveThrottle | RatioRetryBudget | undefined;
  /** The circuit breaker, if any. */
  readonly breaker: CircuitBreaker | undefined;
  /** Error kinds the breaker does not record. */
  readonly breakerIgnores: ReadonlySet<RpcErrorKind>;

  private readonly sim: Simulation;
  private readonly node: NetNode<any>;
  private readonly rng: RandomStream;
  private readonly backoff: Backoff | null;
  private readonly retryAfterMode: number;
  private readonly budgetKind: number;
  private readonly hedgeAfter: number;
  private readonly maxHedges: number;
  private readonly fallback: ((failure: ClientFailure) => R) | undefined;
  private readonly target: ((attempt: number, to: string) => string) | undefined;
  private readonly onAttempt:
    | ((attempt: number, to: string, kind: 'first' | 'retry' | 'hedge') => void)
    | undefined;
  private readonly active = new Set<ClientCall<R>>();
  private nextId = 1;
  private inFlightAttempts = 0;
  private pendingRetries = 0;
  private activeRetries = 0;
  private readonly counts: RetryingClientStats = {
    requests: 0,
    ok: 0,
    failed: 0,
    inFlight: 0,
    attempts: 0,
    retries: 0,
    hedges: 0,
    budgetDenied: 0,
    breakerRejected: 0,
    fallbacks: 0,
    unsent: 0,
    failedBy: {
      timeout: 0,
      rejected: 0,
      unavailable: 0,
      overloaded: 0,
      'gateway-timeout': 0,
      'deadline-exceeded': 0,
      error: 0,
    },
  };
  private readonly meters: {
    requests: Counter;
    ok: Counter;
    failed: Counter;
    attempts: Counter;
    retries: Counter;
    hedges: Counter;
    budgetDenied: Counter;
    breakerRejected: Counter;
    fallbacks: Counter;
    inFlight: Gauge;
    latency: Histogram;
  };

  /**
   * @param endpoint - the caller's endpoint (one per node); the client does not take over its handlers
   * @param options - see {@link RetryingClientOptions}
   * @default options: one attempt, no timeout, no backoff, no budget, no hedging, no breaker, no fallback
   */
  constructor(endpoint: RpcEndpoint<any, any>, options: RetryingClientOptions<R> = {}) {
    if (endpoint === null || typeof endpoint !== 'object' || typeof endpoint.call !== 'function')
      throw invalidOption(C, 'endpoint', endpoint, 'an RpcEndpoint');
    checkObject(C, 'options', options, 'a RetryingClientOptions object');
    checkOptions(C, options, OPTION_KEYS);
    this.endpoint = endpoint;
    this.node = endpoint.node;
    this.sim = endpoint.node.network.sim;
    const name = checkName(C, 'name', options.name ?? endpoint.node.address);
    this.name = name;
    this.timeoutMs = optionalPositive('timeout', options.timeout);
    this.totalTimeoutMs = optionalPositive('totalTimeout', options.totalTimeout);

    const hedge = options.hedge;
    if (hedge === undefined) {
      this.hedgeAfter = 0;
      this.maxHedges = 0;
    } else {
      checkObject(C, 'hedge', hedge, 'an object { after, maxHedges? }');
      checkOptions(C, hedge, HEDGE_KEYS, 'hedge');
      this.hedgeAfter = checkDuration(C, 'hedge.after', hedge.after, { positive: true });
      this.maxHedges = checkNumber(C, 'hedge.maxHedges', hedge.maxHedges ?? 1, { integer: true, min: 1 });
    }
    const maxAttempts = options.maxAttempts ?? 1 + this.maxHedges;
    if (typeof maxAttempts !== 'number' || !Number.isInteger(maxAttempts) || maxAttempts < (hedge ? 2 : 1))
      throw invalidOption(
        C,
        'maxAttempts',
        maxAttempts,
        hedge === undefined
          ? 'an integer >= 1 (the first attempt included)'
          : 'an integer >= 2 with hedge (hedges count as attempts)',
      );
    this.maxAttempts = maxAttempts;

    const backoff = options.backoff;
    if (backoff === undefined) this.backoff = null;
    else if (
      backoff !== null &&
      typeof backoff === 'object' &&
      typeof (backoff as Backoff).delay === 'function'
    )
      this.backoff = backoff as Backoff;
    else this.backoff = resolveBackoff(backoff as BackoffSpec, C, 'backoff');

    this.retryOn = errorKinds('retryOn', options.retryOn ?? DEFAULT_RETRY_ON);
    const retryAfter = checkEnum(C, 'retryAfter', options.retryAfter ?? 'ignore', RETRY_AFTER_MODES);
    this.retryAfterMode =
      retryAfter === 'ignore' ? IGNORE_HINT : retryAfter === 'at-least' ? AT_LEAST : PUSHBACK;

    const budget = options.budget;
    if (budget === undefined) {
      this.budget = undefined;
      this.budgetKind = NO_BUDGET;
    } else if (budget instanceof RetryQuota) {
      this.budget = budget;
      this.budgetKind = QUOTA;
    } else if (budget instanceof EnvoyRetryBudget) {
      this.budget = budget;
      this.budgetKind = ENVOY;
    } else if (budget instanceof AdaptiveThrottle) {
      this.budget = budget;
      this.budgetKind = THROTTLE;
    } else if (budget instanceof RatioRetryBudget) {
      this.budget = budget;
      this.budgetKind = RATIO;
    } else {
      this.budget = ratioBudgetFromSpec(budget);
      this.budgetKind = RATIO;
    }

    const breaker = options.breaker;
    if (
      breaker !== undefined &&
      (breaker === null ||
        typeof breaker !== 'object' ||
        typeof breaker.tryAcquirePermission !== 'function' ||
        typeof breaker.onSuccess !== 'function' ||
        typeof breaker.onError !== 'function' ||
        typeof breaker.releasePermission !== 'function')
    ) {
      throw invalidOption(C, 'breaker', breaker, 'a CircuitBreaker');
    }
    this.breaker = breaker;
    this.breakerIgnores = errorKinds('breakerIgnores', options.breakerIgnores ?? []);
    if (breaker === undefined && options.breakerIgnores !== undefined)
      throw invalidOption(C, 'breakerIgnores', options.breakerIgnores, 'left out unless breaker is set');
    if (options.fallback !== undefined) checkFunction(C, 'fallback', options.fallback, '(failure) => value');
    this.fallback = options.fallback;
    if (options.target !== undefined) checkFunction(C, 'target', options.target, '(attempt, to) => address');
    this.target = options.target;
    if (options.onAttempt !== undefined)
      checkFunction(C, 'onAttempt', options.onAttempt, '(attempt, to, kind) => void');
    this.onAttempt = options.onAttempt;

    this.rng = this.sim.rng(`${name}/retry`);
    const m = this.sim.metrics;
    this.meters = {
      requests: m.counter(name, 'client.requests'),
      ok: m.counter(name, 'client.ok'),
      failed: m.counter(name, 'client.failed'),
      attempts: m.counter(name, 'client.attempts'),
      retries: m.counter(name, 'client.retries'),
      hedges: m.counter(name, 'client.hedges'),
      budgetDenied: m.counter(name, 'client.budget-denied'),
      breakerRejected: m.counter(name, 'client.breaker-rejected'),
      fallbacks: m.counter(name, 'client.fallbacks'),
      inFlight: m.gauge(name, 'client.inflight'),
      latency: m.histogram(name, 'client.latency'),
    };
    // Attempts in flight are failed by the endpoint's own crash hook; calls waiting in backoff would never
    // wake (a crashed node's timers are dropped), so every active call ends here.
    this.node.onCrash(() => this.crashed());
  }

  /** A copy of the client-side accounting. */
  get stats(): RetryingClientStats {
    return { ...this.counts, failedBy: { ...this.counts.failedBy } };
  }

  /**
   * Calls `to` with `payload`, retrying and hedging as configured. The event resolves exactly once, with
   * a {@link ClientResponse} (errors are values, never exceptions).
   *
   * @example
   * ```ts
   * client.call('db', 'GET', { key: 'k' }).onProcessed((e) => record(e.value!));
   * ```
   */
  call(
    to: string,
    payload?: unknown,
    options: RetryingCallOptions = NO_CALL_OPTIONS,
  ): SimEvent<ClientResponse<R>> {
    if (typeof to !== 'string' || to.length === 0) throw invalidArgument('to', to, 'a node address');
    checkCallOptions('RetryingClient.call', options, CALL_KEYS);
    if (options.key !== undefined && typeof options.key !== 'string')
      throw invalidArgument('key', options.key, 'a string');
    if (
      options.size !== undefined &&
      !(typeof options.size === 'number' && options.size >= 0 && options.size < Infinity)
    )
      throw invalidArgument('size', options.size, 'a finite number of bytes >= 0');
    if (options.timeout !== undefined && !(typeof options.timeout === 'number' && options.timeout > 0))
      throw invalidArgument('timeout', options.timeout, 'a number of ms > 0', 'RetryingClient.call');
    if (options.deadline !== undefined && !(typeof options.deadline === 'number' && options.deadline >= 0))
      throw invalidArgument(
        'deadline',
        options.deadline,
        'an absolute time in ms, or Infinity',
        'RetryingClient.call',
      );
    const sim = this.sim;
    const now = sim.now;
    let deadline = options.deadline ?? options.parent?.deadline ?? Infinity;
    if (this.totalTimeoutMs !== undefined)
      deadline = Math.min(deadline, now + this.node.clock.toTrue(this.totalTimeoutMs));
    if (options.timeout !== undefined && options.timeout !== Infinity)
      deadline = Math.min(deadline, now + this.node.clock.toTrue(options.timeout));
    const event = sim.event<ClientResponse<R>>();
    const call = new ClientCall<R>(this.nextId++, to, payload, options, now, deadline, event);
    this.counts.requests++;
    this.counts.inFlight++;
    this.meters.requests.inc();
    this.meters.inFlight.add(1);
    this.active.add(call);
    if (this.budgetKind === RATIO) (this.budget as RatioRetryBudget).deposit(now);
    if (this.node.state === 'down') {
      call.failError = { kind: 'unavailable', message: `caller ${this.node.address} is down` };
      call.failReason = 'crashed';
      this.finish(call, null);
    } else {
      this.launch(call, FIRST);
    }
    return event;
  }

  // -------------------------------------------------------------------------------------------------------
  // Attempts
  // -------------------------------------------------------------------------------------------------------

  /** Sends an attempt if the deadline, the breaker and the throttle allow; a retry or hedge holds an extra slot. */
  private launch(call: ClientCall<R>, kind: AttemptKind): void {
    const sim = this.sim;
    const now = sim.now;
    if (now >= call.deadline) {
      this.refuse(
        call,
        kind,
        { kind: 'timeout', message: 'the deadline passed before the attempt' },
        'deadline',
      );
      return;
    }
    const breaker = this.breaker;
    if (breaker !== undefined && !breaker.tryAcquirePermission()) {
      this.counts.breakerRejected++;
      this.meters.breakerRejected.inc();
      this.refuse(
        call,
        kind,
        {
          kind: 'rejected',
          message: `circuit breaker '${breaker.name}' does not permit calls (${breaker.state})`,
        },
        'breaker',
      );
      return;
    }
    if (this.budgetKind === THROTTLE && !(this.budget as AdaptiveThrottle).admit(now, this.rng)) {
      breaker?.releasePermission();
      this.counts.budgetDenied++;
      this.meters.budgetDenied.inc();
      this.refuse(
        call,
        kind,
        { kind: 'rejected', message: 'throttled locally (adaptive throttling)' },
        'throttled',
      );
      return;
    }
    const n = ++call.attempts;
    this.counts.attempts++;
    this.meters.attempts.inc();
    if (kind === RETRY) {
      call.retries++;
      this.counts.retries++;
      this.meters.retries.inc();
    } else if (kind === HEDGE) {
      call.hedges++;
      this.counts.hedges++;
      this.meters.hedges.inc();
    }
    const o = call.options;
    const callOptions: CallOptions = { deadline: call.deadline, attempt: n };
    if (this.timeoutMs !== undefined) callOptions.timeout = this.timeoutMs;
    if (o.parent !== undefined) callOptions.parent = o.parent;
    else callOptions.origin = call.start; // retries and hedges belong to the request that started at call.start
    if (o.key !== undefined) callOptions.key = o.key;
    if (o.size !== undefined) callOptions.size = o.size;
    let to = call.to;
    if (this.target !== undefined) {
      to = this.target(n, call.to);
      if (typeof to !== 'string' || to.length === 0)
        throw invalidArgument(`target(${n}, ${JSON.stringify(call.to)})`, to, 'a node address');
    }
    this.onAttempt?.(n, to, kind === FIRST ? 'first' : kind === RETRY ? 'retry' : 'hedge');
    const attempt: Attempt = { extra: kind !== FIRST };
    call.outstanding.push(attempt);
    this.inFlightAttempts++;
    const done = (response: RpcResponse<unknown>): void => this._attemptDone(call, attempt, response);
    // An endpoint-like wrapper with only `call` (one that observes calls) answers through its event.
    const endpoint = this.endpoint;
    if (typeof endpoint.callThen === 'function')
      endpoint.callThen<unknown>(to, call.payload, callOptions, done);
    else endpoint.call<unknown>(to, call.payload, callOptions).onProcessed((e) => done(e.value!));
    // The next hedge is due `after` the latest attempt (gRPC's hedging delay between attempts).
    if (this.maxHedges > 0 && call.hedges < this.maxHedges && call.attempts < this.maxAttempts) {
      call.hedgeTimer?.cancel();
      call.hedgeFn ??= () => this.fireHedge(call);
      call.hedgeTimer = this.node.setTimer(this.hedgeAfter, call.hedgeFn);
    }
  }

  /** An attempt was not sent: a hedge is simply dropped; a first try or a retry becomes the call's failure. */
  private refuse(call: ClientCall<R>, kind: AttemptKind, error: RpcError, reason: GiveUpReason): void {
    if (kind !== FIRST) this.activeRetries--;
    if (kind === HEDGE) return;
    // A retry the throttle refused, or one cut by the deadline, returns the real failure that caused it.
    if (kind === FIRST || reason === 'breaker' || call.failError === null) call.failError = error;
    call.failReason = reason === 'throttled' && kind === RETRY ? 'budget' : reason;
    this.settleIfIdle(call);
  }

  /** @internal An attempt's response arrived. */
  _attemptDone(call: ClientCall<R>, attempt: Attempt, response: RpcResponse<unknown>): void {
    const outstanding = call.outstanding;
    let i = 0;
    while (i < outstanding.length && outstanding[i] !== attempt) i++;
    // Not found: the call ended before this answer (a losing hedge); the endpoint counted it.
    if (i === outstanding.length) return;
    outstanding.splice(i, 1);
    this.inFlightAttempts--;
    if (attempt.extra) this.activeRetries--;
    const now = this.sim.now;
    if (this.breaker !== undefined) {
      if (response.ok) this.breaker.onSuccess(response.latency);
      else if (this.breakerIgnores.has(response.error.kind)) this.breaker.releasePermission();
      else this.breaker.onError(response.latency);
    }
    if (this.budgetKind === THROTTLE && accepted(response))
      (this.budget as AdaptiveThrottle).recordAccept(now);
    call.lastRequest = response.request;
    if (response.ok) {
      if (this.budgetKind === QUOTA) (this.budget as RetryQuota).onSuccess(call.quotaCost);
      this.finish(call, response);
      return;
    }
    const kind = response.error.kind;
    call.failError = response.error;
    if (!this.retryOn.has(kind)) {
      call.failReason = 'not-retryable';
      this.finish(call, null);
      return;
    }
    call.failReason = 'exhausted';
    // A retry is already waiting out its backoff (another attempt failed first): it covers this one too.
    if (call.retryTimer !== null) return;
    if (call.attempts >= this.maxAttempts) {
      this.settleIfIdle(call);
      return;
    }
    const backoff =
      this.backoff === null ? 0 : this.backoff.delay(call.retries + 1, this.rng, call.lastDelay);
    // The server's retry-after hint, when honoured: a floor under the backoff, or (gRPC pushback) instead of it.
    const hint = this.retryAfterMode === IGNORE_HINT ? undefined : response.error.retryAfterMs;
    const delay =
      hint === undefined ? backoff : this.retryAfterMode === AT_LEAST ? Math.max(backoff, hint) : hint;
    if (now + this.node.clock.toTrue(delay) >= call.deadline) {
      call.failReason = 'deadline';
      this.settleIfIdle(call);
      return;
    }
    if (!this.allowExtra(call, kind)) {
      call.failReason = 'budget';
      this.settleIfIdle(call);
      return;
    }
    // The backoff's own delay, so that a hint does not stretch the decorrelated-jitter sequence.
    call.lastDelay = backoff;
    if (this.sim.tracing) {
      this.sim.emit('@dsim.client.retry', {
        client: this.name,
        id: call.id,
        attempt: call.attempts + 1,
        delay,
        error: kind,
      });
    }
    if (delay === 0) {
      this.launch(call, RETRY);
      return;
    }
    this.pendingRetries++;
    call.retryFn ??= () => this.fireRetry(call);
    call.retryTimer = this.node.setTimer(delay, call.retryFn);
  }

  private fireRetry(call: ClientCall<R>): void {
    call.retryTimer = null;
    this.pendingRetries--;
    if (call.done) return;
    this.launch(call, RETRY);
  }

  private fireHedge(call: ClientCall<R>): void {
    call.hedgeTimer = null;
    if (call.done || call.retryTimer !== null || call.outstanding.length === 0) return;
    if (call.attempts >= this.maxAttempts || call.hedges >= this.maxHedges) return;
    if (!this.allowExtra(call, null)) return;
    if (this.sim.tracing)
      this.sim.emit('@dsim.client.hedge', { client: this.name, id: call.id, attempt: call.attempts + 1 });
    this.launch(call, HEDGE);
  }

  /**
   * Asks the budget for a retry (after an error of `kind`) or a hedge (`kind` null). On yes the client
   * holds one more active retry until that attempt ends or is dropped.
   */
  private allowExtra(call: ClientCall<R>, kind: RpcErrorKind | null): boolean {
    let ok = true;
    switch (this.budgetKind) {
      case QUOTA: {
        const quota = this.budget as RetryQuota;
        const cls = quotaClass(kind);
        const price = cls === 'other' ? quota.retryCost : quota.timeoutRetryCost;
        if (price > 0) {
          const paid = quota.acquire(cls);
          if (paid === 0) ok = false;
          else call.quotaCost = paid;
        }
        break;
      }
      case ENVOY:
        ok = (this.budget as EnvoyRetryBudget).allows(
          this.inFlightAttempts + this.pendingRetries,
          this.activeRetries,
        );
        break;
      case RATIO:
        ok = (this.budget as RatioRetryBudget).tryWithdraw(this.sim.now);
        break;
      default:
        break;
    }
    if (!ok) {
      this.counts.budgetDenied++;
      this.meters.budgetDenied.inc();
      return false;
    }
    this.activeRetries++;
    return true;
  }

  private settleIfIdle(call: ClientCall<R>): void {
    if (call.outstanding.length === 0 && call.retryTimer === null) this.finish(call, null);
  }

  private crashed(): void {
    for (const call of [...this.active]) {
      call.failError = { kind: 'unavailable', message: `caller ${this.node.address} crashed` };
      call.failReason = 'crashed';
      this.finish(call, null);
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // The end of a call
  // -------------------------------------------------------------------------------------------------------

  /** Ends the call with `success`, or with its recorded failure when `success` is null. */
  private finish(call: ClientCall<R>, success: RpcResponse<unknown> | null): void {
    call.done = true;
    this.active.delete(call);
    if (call.retryTimer !== null) {
      call.retryTimer.cancel();
      call.retryTimer = null;
      this.pendingRetries--;
      this.activeRetries--;
    }
    if (call.hedgeTimer !== null) {
      call.hedgeTimer.cancel();
      call.hedgeTimer = null;
    }
    // Attempts still outstanding lose: the client stops waiting (their answers are ignored), and a
    // breaker permit taken for them is given back.
    const outstanding = call.outstanding;
    for (let i = 0; i < outstanding.length; i++) {
      this.inFlightAttempts--;
      if (outstanding[i]!.extra) this.activeRetries--;
      this.breaker?.releasePermission();
    }
    outstanding.length = 0;

    const sim = this.sim;
    const latency = sim.now - call.start;
    const counts = this.counts;
    const meters = this.meters;
    counts.inFlight--;
    meters.inFlight.add(-1);
    meters.latency.record(latency);
    if (call.attempts === 0) counts.unsent++;
    let response: ClientResponse<R>;
    if (success?.ok) {
      response = {
        ok: true,
        value: success.value as R,
        fallback: false,
        latency,
        attempts: call.attempts,
        retries: call.retries,
        hedges: call.hedges,
        request: success.request,
      };
    } else {
      const failure: ClientFailure = {
        ok: false,
        error: call.failError ?? { kind: 'error', message: 'unknown failure' },
        fallback: false,
        reason: call.failReason,
        latency,
        attempts: call.attempts,
        retries: call.retries,
        hedges: call.hedges,
        request: call.lastRequest,
      };
      if (sim.tracing) {
        sim.emit('@dsim.client.give-up', {
          client: this.name,
          id: call.id,
          reason: failure.reason,
          error: failure.error.kind,
          attempts: call.attempts,
          fallback: this.fallback !== undefined,
        });
      }
      if (this.fallback === undefined) {
        response = failure;
      } else {
        const value = this.fallback(failure);
        response = {
          ok: true,
          value,
          fallback: true,
          error: failure.error,
          reason: failure.reason,
          latency,
          attempts: call.attempts,
          retries: call.retries,
          hedges: call.hedges,
          request: call.lastRequest,
        };
        counts.fallbacks++;
        meters.fallbacks.inc();
      }
    }
    if (response.ok) {
      counts.ok++;
      meters.ok.inc();
    } else {
      counts.failed++;
      counts.failedBy[response.error.kind]++;
      meters.failed.inc();
    }
    call.event.succeed(response);
  }
}

function optionalPositive(field: string, value: Duration | undefined): number | undefined {
  return value === undefined ? undefined : checkDuration(C, field, value, { positive: true });
}

/** A list of error kinds, each known (with a "did you mean" for a misspelt one). */
function errorKinds(field: string, kinds: unknown): ReadonlySet<RpcErrorKind> {
  if (!Array.isArray(kinds))
    throw invalidOption(C, field, kinds, `an array of error kinds (${RPC_ERROR_KINDS.join(', ')})`);
  return new Set(kinds.map((kind, i) => checkEnum(C, `${field}[${i}]`, kind, RPC_ERROR_KINDS)));
}

/** The budget option when it is not a ready budget: a `{ kind: 'ratio', ... }` spec or an error. */
function ratioBudgetFromSpec(budget: unknown): RatioRetryBudget {
  const allowed =
    "a RetryQuota, EnvoyRetryBudget, AdaptiveThrottle, RatioRetryBudget or { kind: 'ratio', ratio?, minPerSecond?, ttl? }";
  if (budget === null || typeof budget !== 'object' || !('kind' in budget))
    throw invalidOption(C, 'budget', budget, allowed);
  checkKind(C, 'budget', budget, { ratio: ['kind', 'ratio', 'minPerSecond', 'ttl'] });
  const { kind: _kind, ...rest } = budget as RatioBudgetSpec;
  // Checked here so that errors name the client's option (`budget.ratio`), then built.
  checkRatioBudget(rest, C, 'budget');
  return new RatioRetryBudget(rest);
}
