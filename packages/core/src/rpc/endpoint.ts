import { type Duration, toMs } from '../duration.js';
import { DsimError, invalidArgument } from '../errors.js';
import type { SimEvent } from '../events.js';
import type { Counter } from '../metrics/counter.js';
import type { Gauge } from '../metrics/gauge.js';
import type { Histogram } from '../metrics/histogram.js';
import type { Message } from '../net/network.js';
import type { NetNode, NodeTimer } from '../net/node.js';
import { optionKeys } from '../options.js';
import { checkCallOptions } from '../strict.js';
import type { RpcError, RpcErrorKind, RpcRequest, RpcResponse } from './types.js';

/** Options of a call. */
export interface CallOptions {
  /**
   * How long the caller waits (caller's local time). The effective deadline is the earlier of
   * now + timeout and `deadline` (or the parent's deadline).
   * @default no timeout (wait for the deadline, or forever)
   */
  timeout?: Duration;
  /** Absolute deadline (true time). @default Infinity */
  deadline?: number;
  /** The request being served that makes this call: its origin and deadline propagate. */
  parent?: RpcRequest;
  /**
   * Time the top-level request started, for a retry that has no parent (a client retrying its own call).
   * @default the parent's origin, else now
   */
  origin?: number;
  /** @default 1 */
  attempt?: number;
  key?: string;
  /** Request size in bytes. @default 0 */
  size?: number;
}

const CALL_KEYS = optionKeys<CallOptions>()({
  timeout: true,
  deadline: true,
  parent: true,
  origin: true,
  attempt: true,
  key: true,
  size: true,
});
const REPLY_KEYS = ['size'] as const;
const REPLY_ERROR_KEYS = ['retryAfter'] as const;

/**
 * Options of {@link Reply.error}.
 *
 * @example
 * ```ts
 * reply.error('overloaded', 'concurrency limit reached', { retryAfter: '100ms' });
 * ```
 */
export interface ReplyErrorOptions {
  /**
   * A retry-after hint for the caller (HTTP `Retry-After`, gRPC `grpc-retry-pushback-ms`): a duration
   * >= 0, carried on the response as `error.retryAfterMs`.
   * @default none
   */
  retryAfter?: Duration;
}

/** How a server answers one request. Exactly one of `ok` or `error` may be called. */
export interface Reply<R> {
  ok(value: R, options?: { size?: number }): void;
  error(kind: Exclude<RpcErrorKind, 'timeout'>, message?: string, options?: ReplyErrorOptions): void;
}

/** Caller-side accounting. At every moment: sent = ok + failed + inFlight. */
export interface RpcStats {
  sent: number;
  ok: number;
  failed: number;
  failedBy: Record<RpcErrorKind, number>;
  inFlight: number;
  /** Responses that arrived after the caller gave up: wasted work, never counted as success. */
  late: number;
}

/**
 * A call waiting for its response: answered through its event (`call`) or its callback (`callThen`).
 * It is also the request on the wire (one object per call, not two): the server hands it back in the
 * response, so settling needs no lookup. Waiting calls form a list in call order, for a crash to fail
 * them all. Its prototype carries this copy's {@link WIRE_KIND} mark, so telling RPC traffic from plain
 * messages is one property load; `rpc` and `request` are the wire shape another copy of @dsim/core on
 * the same network reads.
 */
class Pending {
  readonly rpc = 'req';
  timer: NodeTimer | null = null;
  settled = false;
  prev: Pending | null = null;
  next: Pending | null = null;
  constructor(
    readonly request: RpcRequest,
    readonly event: SimEvent<RpcResponse<any>> | null,
    readonly done: ((response: RpcResponse<any>, tag?: any) => void) | null,
    /** Handed to `done` with the response (a component's per-call state); undefined for `callThen`. */
    readonly tag: unknown,
  ) {}
}

const NO_OPTIONS: CallOptions = Object.freeze({});

/** A response on the wire. */
class ResponseWire {
  readonly rpc = 'res';
  constructor(
    readonly id: number,
    readonly ok: boolean,
    readonly value: unknown,
    readonly error: RpcError | undefined,
    readonly pending: Pending | undefined,
  ) {}
}

type Wire = Pending | ResponseWire;

/**
 * This copy's mark on its wire classes' prototypes: {@link REQUEST_WIRE} on `Pending`, {@link
 * RESPONSE_WIRE} on `ResponseWire`. A symbol of this module (not `Symbol.for`), so another copy's wire
 * objects lack it and take the shape-based path. One property load, which V8 answers from the
 * prototype after a map check; `instanceof` walks the prototype chain, to its end for a response.
 */
const WIRE_KIND = Symbol('@dsim/core.rpc.wire');
const REQUEST_WIRE = 1;
const RESPONSE_WIRE = 2;
Object.defineProperty(Pending.prototype, WIRE_KIND, { value: REQUEST_WIRE });
Object.defineProperty(ResponseWire.prototype, WIRE_KIND, { value: RESPONSE_WIRE });

/** The server's side of one request: a single object, no closures per request. */
class ServerReply<R> implements Reply<R> {
  private answered = false;
  constructor(
    private readonly node: NetNode<any>,
    private readonly request: RpcRequest,
    private readonly pending: Pending | undefined,
    /** The message the request came in: the answer goes back by its route. */
    private readonly via: Message<unknown>,
  ) {}

  ok(value: R, options?: { size?: number }): void {
    if (options === undefined) {
      this.send(true, value, undefined, 0);
      return;
    }
    checkCallOptions('Reply.ok', options, REPLY_KEYS);
    const size = options.size ?? 0;
    if (typeof size !== 'number' || !(size >= 0) || size === Infinity)
      throw invalidArgument('size', size, 'a finite number of bytes >= 0', 'Reply.ok');
    this.send(true, value, undefined, size);
  }

  error(kind: Exclude<RpcErrorKind, 'timeout'>, message: string = kind, options?: ReplyErrorOptions): void {
    if (options === undefined) {
      this.send(false, undefined, { kind, message }, 0);
      return;
    }
    checkCallOptions('Reply.error', options, REPLY_ERROR_KEYS);
    if (options.retryAfter === undefined) {
      this.send(false, undefined, { kind, message }, 0);
      return;
    }
    const retryAfterMs = toMs(options.retryAfter, 'Reply.error: retryAfter');
    this.send(false, undefined, { kind, message, retryAfterMs }, 0);
  }

  private send(ok: boolean, value: unknown, error: RpcError | undefined, size: number): void {
    const request = this.request;
    if (this.answered) {
      const sim = this.node.network.sim;
      throw new DsimError(
        'INVALID_STATE',
        `request ${request.id} from ${request.from} was already answered`,
        {
          simTime: sim.now,
          seed: sim.seed,
        },
      );
    }
    this.answered = true;
    const node = this.node;
    node.network._reply(node, this.via, new ResponseWire(request.id, ok, value, error, this.pending), size);
  }
}

/** Each node's endpoint: a node's messages go to one endpoint, so it has at most one. */
const ENDPOINTS = new WeakMap<NetNode<any>, RpcEndpoint<any, any>>();

/**
 * Request/response on top of a node's messages. One endpoint per node: it takes over the node's
 * message handler (plain messages go to `onMessage`).
 *
 * A call resolves to an {@link RpcResponse}: ok with a value, or a typed error. The caller's timeout
 * fires even when the server is partitioned away or crashed; a response that arrives after that is
 * counted as `late` (wasted work), never as success. Deadlines propagate: pass `{ parent: request }` to
 * downstream calls.
 *
 * @example
 * ```ts
 * const server = new RpcEndpoint(net.addNode('db'));
 * server.serve((req, reply) => node.setTimer(5, () => reply.ok(`row ${req.key}`)));
 * const client = new RpcEndpoint(net.addNode('app'));
 * sim.process(function* () {
 *   const res = yield* client.call('db', 'GET', { key: 'k1', timeout: '100ms' });
 *   if (!res.ok) sim.log(res.error.kind);
 * });
 * ```
 */
export class RpcEndpoint<Req = unknown, Res = unknown> {
  private handler: ((request: RpcRequest<Req>, reply: Reply<Res>) => void) | null = null;
  private plain: ((message: Message<unknown>) => void) | null = null;
  private nextId = 1;
  /** Calls waiting for a response, oldest first. */
  private first: Pending | null = null;
  private last: Pending | null = null;
  private readonly counts: RpcStats = {
    sent: 0,
    ok: 0,
    failed: 0,
    failedBy: {
      timeout: 0,
      rejected: 0,
      unavailable: 0,
      overloaded: 0,
      'gateway-timeout': 0,
      'deadline-exceeded': 0,
      error: 0,
    },
    inFlight: 0,
    late: 0,
  };

  private readonly meters: {
    sent: Counter;
    ok: Counter;
    failed: Counter;
    late: Counter;
    inFlight: Gauge;
    latency: Histogram;
    served: Counter;
  };

  /**
   * The node's endpoint: the one already made for `node`, or a new one. Components that may share a
   * node with another client (a consumer and a producer on one application node) take their endpoint
   * from here, so every answer reaches the caller that is waiting for it.
   *
   * @example
   * ```ts
   * const endpoint = RpcEndpoint.of(net.node('app'));
   * RpcEndpoint.of(net.node('app')) === endpoint; // true
   * ```
   */
  static of<Req = unknown, Res = unknown>(node: NetNode<any>): RpcEndpoint<Req, Res> {
    return (ENDPOINTS.get(node) as RpcEndpoint<Req, Res> | undefined) ?? new RpcEndpoint<Req, Res>(node);
  }

  /**
   * @param node - the node it sends from and receives on; it takes over the node's messages, so a node
   *   has at most one endpoint (a second one is an error: use {@link RpcEndpoint.of} to share it)
   */
  constructor(readonly node: NetNode<any>) {
    if (ENDPOINTS.has(node))
      throw new DsimError(
        'INVALID_STATE',
        `RpcEndpoint: node '${node.address}' already has an RpcEndpoint; a second one would take over the node's messages and the first one's answers would be lost. Share it: RpcEndpoint.of(node), or pass the existing endpoint to the component that needs one`,
        { simTime: node.network.sim.now, seed: node.network.sim.seed },
      );
    ENDPOINTS.set(node, this);
    // Standard metrics under the node's address, recorded without extra code.
    const metrics = node.network.sim.metrics;
    const id = node.address;
    this.meters = {
      sent: metrics.counter(id, 'rpc.sent'),
      ok: metrics.counter(id, 'rpc.ok'),
      failed: metrics.counter(id, 'rpc.failed'),
      late: metrics.counter(id, 'rpc.late'),
      inFlight: metrics.gauge(id, 'rpc.inflight'),
      latency: metrics.histogram(id, 'rpc.latency'),
      served: metrics.counter(id, 'rpc.served'),
    };
    node.onMessage((m) => this.receive(m as Message<unknown>));
    node.onCrash(() => this.failAll('unavailable', `caller ${node.address} crashed`));
  }

  /** A copy of the caller-side accounting. */
  get stats(): RpcStats {
    return { ...this.counts, failedBy: { ...this.counts.failedBy } };
  }

  /**
   * The handler given to {@link RpcEndpoint.serve}, or null: for a filter that wraps a component's
   * handling (an in-process admission limit, a fault injector) and calls it for what it lets through.
   *
   * @example
   * ```ts
   * const inner = service.endpoint.serving!;
   * service.endpoint.serve((req, reply) => (admit(req) ? inner(req, reply) : reply.error('overloaded')));
   * ```
   */
  get serving(): ((request: RpcRequest<Req>, reply: Reply<Res>) => void) | null {
    return this.handler;
  }

  /** Serves requests: `handler(request, reply)` must eventually call `reply.ok()` or `reply.error()`. */
  serve(handler: (request: RpcRequest<Req>, reply: Reply<Res>) => void): this {
    if (typeof handler !== 'function') throw invalidArgument('serve(handler)', handler, 'a function');
    this.handler = handler;
    return this;
  }

  /** Handles messages that are not requests or responses. */
  onMessage(handler: (message: Message<unknown>) => void): this {
    this.plain = handler;
    return this;
  }

  /** Sends a request to `to`; the event resolves with the response (never fails: errors are values). */
  call<R = Res>(to: string, payload: unknown, options?: CallOptions): SimEvent<RpcResponse<R>> {
    const event = this.node.network.sim.event<RpcResponse<R>>();
    this.start('RpcEndpoint.call', to, payload, options ?? NO_OPTIONS, event, null);
    return event;
  }

  /**
   * Sends a request to `to` and calls `done(response)` the moment the response arrives (or the call times
   * out, or the caller crashes), inside that event: no event is created or queued for the answer. The
   * callback form of {@link RpcEndpoint.call}, for components on hot paths; `call` answers one queued
   * event later at the same simulated time.
   *
   * @example
   * ```ts
   * client.callThen('db', 'GET', { timeout: 100 }, (res) => {
   *   if (!res.ok) sim.log(res.error.kind);
   * });
   * ```
   */
  callThen<R = Res>(
    to: string,
    payload: unknown,
    options: CallOptions | undefined,
    done: (response: RpcResponse<R>) => void,
  ): void {
    if (typeof done !== 'function')
      throw invalidArgument('done', done, 'a function (response) => void', 'RpcEndpoint.callThen');
    this.start(
      'RpcEndpoint.callThen',
      to,
      payload,
      options ?? NO_OPTIONS,
      null,
      done as (response: RpcResponse<any>) => void,
    );
  }

  private start(
    component: string,
    to: string,
    payload: unknown,
    options: CallOptions,
    event: SimEvent<RpcResponse<any>> | null,
    done: ((response: RpcResponse<any>) => void) | null,
  ): void {
    const node = this.node;
    const sim = node.network.sim;
    const now = sim.now;
    if (options === NO_OPTIONS) {
      // No options (the common `callThen(to, payload, undefined, done)`): the defaults, nothing to check.
      // Measured: about 100 of 8 400 instructions per request on mm1-components.
      this.launch(to, payload, now, Infinity, 1, undefined, 0, event, done, undefined);
      return;
    }
    checkCallOptions(component, options, CALL_KEYS);
    const timeout = options.timeout === undefined ? Infinity : toMs(options.timeout, `${component}: timeout`);
    const parent = options.parent;
    if (parent !== undefined && (parent === null || typeof parent !== 'object'))
      throw invalidArgument('parent', parent, 'the RpcRequest being served', component);
    let deadline = options.deadline ?? parent?.deadline ?? Infinity;
    if (typeof deadline !== 'number' || Number.isNaN(deadline))
      throw invalidArgument('deadline', deadline, 'an absolute time in ms', component);
    if (options.origin !== undefined && !(typeof options.origin === 'number' && options.origin <= now))
      throw invalidArgument('origin', options.origin, `a time <= now (${now})`, component);
    const attempt = options.attempt ?? 1;
    if (!Number.isInteger(attempt) || attempt < 1)
      throw invalidArgument('attempt', attempt, 'an integer >= 1', component);
    if (options.key !== undefined && typeof options.key !== 'string')
      throw invalidArgument('key', options.key, 'a string', component);
    const size = options.size ?? 0;
    if (typeof size !== 'number' || !(size >= 0) || size === Infinity)
      throw invalidArgument('size', size, 'a finite number of bytes >= 0', component);
    if (timeout !== Infinity) deadline = Math.min(deadline, now + node.clock.toTrue(timeout));
    this.launch(
      to,
      payload,
      parent?.origin ?? options.origin ?? now,
      deadline,
      attempt,
      options.key ?? parent?.key,
      size,
      event,
      done,
      undefined,
    );
  }

  /**
   * @internal A downstream call made while serving `parent`, for components on the hot path (Service):
   * the same request as `callThen(to, payload, { parent, timeout, deadline: propagate ? undefined :
   * Infinity }, done)`, without an options object to build and check or a closure per call. `done` is
   * one long-lived function, called as `done(response, tag)`. The caller has validated `timeout` (ms,
   * > 0, or Infinity for none).
   */
  _callUnder<T>(
    to: string,
    payload: unknown,
    parent: RpcRequest,
    timeout: number,
    propagate: boolean,
    done: (response: RpcResponse<any>, tag: T) => void,
    tag: T,
  ): void {
    const node = this.node;
    const now = node.network.sim.now;
    let deadline = propagate ? parent.deadline : Infinity;
    if (timeout !== Infinity) deadline = Math.min(deadline, now + node.clock.toTrue(timeout));
    this.launch(to, payload, parent.origin, deadline, 1, parent.key, 0, null, done, tag);
  }

  /** Sends a validated call and waits for its answer. */
  private launch(
    to: string,
    payload: unknown,
    origin: number,
    deadline: number,
    attempt: number,
    key: string | undefined,
    size: number,
    event: SimEvent<RpcResponse<any>> | null,
    done: ((response: RpcResponse<any>, tag?: any) => void) | null,
    tag: unknown,
  ): void {
    const node = this.node;
    const sim = node.network.sim;
    const now = sim.now;
    const request: RpcRequest = {
      id: this.nextId++,
      from: node.address,
      to,
      payload,
      origin,
      deadline,
      attempt,
      key,
      size,
      sentAt: now,
    };
    this.counts.sent++;
    this.counts.inFlight++;
    this.meters.sent._inc(1);
    this.meters.inFlight._add(1);
    if (sim.tracing)
      sim.emit('@dsim.rpc.start', {
        id: request.id,
        from: request.from,
        to,
        attempt,
        deadline,
        key: request.key ?? null,
      });
    const entry = new Pending(request, event, done, tag);
    if (this.last === null) this.first = entry;
    else {
      this.last.next = entry;
      entry.prev = this.last;
    }
    this.last = entry;
    if (deadline < now) {
      // The propagated deadline has already passed: like a gRPC client, fail the call at once, unsent.
      entry.timer = node.setTimer(0, () =>
        this.settle(entry, request.id, false, undefined, {
          kind: 'timeout',
          message: `deadline passed ${now - deadline} ms before the call`,
        }),
      );
      return;
    }
    if (deadline !== Infinity) {
      // The caller's own timer: it fires whatever happens to the server or the network.
      // setTimer takes the node's local time; this fires at the true-time deadline under the current drift.
      entry.timer = node.setTimer((deadline - now) * (1 + node.clock.driftRate), () =>
        this.settle(entry, request.id, false, undefined, {
          kind: 'timeout',
          message: `no response within ${deadline - now} ms`,
        }),
      );
    }
    node._sendSized(to, entry, size);
  }

  private receive(message: Message<unknown>): void {
    const wire = message.payload as Wire | { rpc?: unknown } | null;
    // Any payload but null and undefined reads as an object here (a number's symbol property is undefined).
    const kind = (wire as { [WIRE_KIND]?: number } | null | undefined)?.[WIRE_KIND];
    if (kind === REQUEST_WIRE) {
      const request = wire as Pending;
      this.handle(request.request as RpcRequest<Req>, request, message);
      return;
    }
    if (kind === RESPONSE_WIRE) {
      const res = wire as ResponseWire;
      this.settle(res.pending ?? this.find(res.id), res.id, res.ok, res.value, res.error);
      return;
    }
    // Wire objects of another copy of @dsim/core on the same network: same shape, other classes.
    if (wire !== null && typeof wire === 'object' && 'rpc' in wire) {
      if ((wire as Wire).rpc === 'req')
        this.handle((wire as Pending).request as RpcRequest<Req>, undefined, message);
      else {
        const res = wire as ResponseWire;
        this.settle(this.find(res.id), res.id, res.ok, res.value, res.error);
      }
      return;
    }
    this.plain?.(message);
  }

  private handle(request: RpcRequest<Req>, pending: Pending | undefined, via: Message<unknown>): void {
    const reply = new ServerReply<Res>(this.node, request, pending, via);
    this.meters.served._inc(1);
    if (this.handler === null) {
      reply.error('unavailable', `${this.node.address} serves no requests`);
      return;
    }
    this.handler(request, reply);
  }

  /** The waiting call with request id `id`, for responses that carry no handle (another copy of dsim). */
  private find(id: number): Pending | undefined {
    for (let p = this.first; p !== null; p = p.next) if (p.request.id === id) return p;
    return undefined;
  }

  private settle(
    entry: Pending | undefined,
    id: number,
    ok: boolean,
    value: unknown,
    error: RpcError | undefined,
  ): void {
    const sim = this.node.network.sim;
    if (entry === undefined || entry.settled) {
      // The caller already gave up (timeout) or crashed: the server's work was wasted.
      this.counts.late++;
      this.meters.late._inc(1);
      if (sim.tracing) sim.emit('@dsim.rpc.late', { id, at: this.node.address });
      return;
    }
    entry.settled = true;
    if (entry.prev === null) this.first = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === null) this.last = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = null;
    entry.next = null;
    entry.timer?.cancel();
    this.counts.inFlight--;
    const latency = sim.now - entry.request.sentAt;
    this.meters.inFlight._add(-1);
    this.meters.latency._record(latency);
    let response: RpcResponse<unknown>;
    if (ok) {
      this.counts.ok++;
      this.meters.ok._inc(1);
      response = { ok: true, value, latency, request: entry.request };
    } else {
      const err = error ?? { kind: 'error' as const, message: 'unknown error' };
      this.counts.failed++;
      this.meters.failed._inc(1);
      this.counts.failedBy[err.kind]++;
      response = { ok: false, error: err, latency, request: entry.request };
    }
    if (sim.tracing) {
      sim.emit('@dsim.rpc.end', {
        id,
        from: entry.request.from,
        to: entry.request.to,
        ok,
        error: ok ? null : (error?.kind ?? 'error'),
        latency,
      });
    }
    const done = entry.done;
    if (done === null) entry.event!.succeed(response);
    else if (entry.tag === undefined) done(response);
    else done(response, entry.tag);
  }

  private failAll(kind: RpcErrorKind, message: string): void {
    // Oldest first, as they were called; settling unlinks each one.
    while (this.first !== null)
      this.settle(this.first, this.first.request.id, false, undefined, { kind, message });
  }
}
