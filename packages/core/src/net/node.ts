import { type Duration, toMs } from '../duration.js';
import { DsimError, invalidArgument } from '../errors.js';
import { EventKind, NORMAL } from '../event-queue.js';
import { NodeClock } from './clock.js';
import type { Message, Network, Route, SendOptions } from './network.js';

/** Life state of a node: running, crashed, or stopped the world (GC-style pause). */
export type NodeState = 'up' | 'down' | 'paused';

/** A timer set with {@link NetNode.setTimer}. */
export interface NodeTimer {
  /** Stops the timer. Harmless after it fired. */
  cancel(): void;
}

/** What restart hooks receive. */
export interface RestartInfo {
  /** True when the node restarted with its in-memory state (`restart({ keepState: true })`). */
  readonly keptState: boolean;
  /** 1 for the first restart, 2 for the second, ... */
  readonly incarnation: number;
}

/**
 * A node on a {@link Network}: an address, a message handler, a local clock, timers that belong to the
 * node (they stall while it is paused and die with it when it crashes) and a capacity factor that
 * faults can degrade. Created by `network.addNode(address)`.
 *
 * @example
 * ```ts
 * const a = net.addNode('a');
 * const b = net.addNode('b');
 * b.onMessage((m) => b.send(m.from, `pong ${m.payload}`));
 * a.send('b', 'ping');
 * ```
 */
export class NetNode<P = unknown> {
  /** The node's clock: true time plus skew and drift. */
  readonly clock: NodeClock;
  private handler: ((message: Message<P>) => void) | null = null;
  private _state: NodeState = 'up';
  private _incarnation = 0;
  private _capacity = 1;
  private inbox: Message<P>[] = [];
  private stalled: Array<() => void> = [];
  /** True ms spent in completed pauses, and when the current pause began (for work timers). */
  private pausedTotal = 0;
  private pausedAt = 0;
  private readonly crashHooks: Array<() => void> = [];
  private readonly restartHooks: Array<(info: RestartInfo) => void> = [];
  private readonly capacityHooks: Array<(factor: number) => void> = [];
  /** @internal Routes from this node by destination address, filled by the network on first send. */
  readonly _routes = new Map<string, Route>();

  constructor(
    readonly network: Network,
    readonly address: string,
  ) {
    const sim = network.sim;
    this.clock = new NodeClock(() => sim.now);
  }

  /** `up`, `down` (crashed) or `paused`. */
  get state(): NodeState {
    return this._state;
  }

  /** True while running (not crashed, not paused). */
  get isUp(): boolean {
    return this._state === 'up';
  }

  /** Counts restarts; timers and deliveries of an older incarnation never run. */
  get incarnation(): number {
    return this._incarnation;
  }

  /** Capacity factor in (0, 1]: 1 is full capacity, 0.5 half. Components read it. @default 1 */
  get capacity(): number {
    return this._capacity;
  }

  /** Messages waiting for the node to resume from a pause. */
  get queuedWhilePaused(): number {
    return this.inbox.length;
  }

  /** Sets the message handler (one per node; a later call replaces it). */
  onMessage(handler: (message: Message<P>) => void): this {
    if (typeof handler !== 'function') throw invalidArgument('onMessage(handler)', handler, 'a function');
    this.handler = handler;
    return this;
  }

  /** Runs `hook` when the node crashes: drop in-memory state here. */
  onCrash(hook: () => void): this {
    this.crashHooks.push(hook);
    return this;
  }

  /** Runs `hook` when the node restarts: rebuild state here (`info.keptState` says whether it survived). */
  onRestart(hook: (info: RestartInfo) => void): this {
    this.restartHooks.push(hook);
    return this;
  }

  /** Runs `hook` when the capacity factor changes. */
  onCapacityChange(hook: (factor: number) => void): this {
    this.capacityHooks.push(hook);
    return this;
  }

  /** Sends a message from this node. Returns its id. A crashed node's sends are dropped. */
  send(to: string, payload: P, options?: SendOptions): number {
    return this.network._send(this, to, payload, options);
  }

  /** @internal A send with an already validated size, for the RPC layer. */
  _sendSized(to: string, payload: P, size: number): number {
    return this.network._sendSized(this, to, payload, size);
  }

  /**
   * Runs `fn` after `delay` of this node's local time (drift applies). The timer stalls while the node
   * is paused (it runs on resume) and is discarded if the node crashes first.
   */
  setTimer(delay: Duration, fn: () => void): NodeTimer {
    const local =
      typeof delay === 'number' && delay >= 0 && delay !== Infinity
        ? delay
        : toMs(delay, `NetNode '${this.address}': setTimer(delay)`);
    const timer = new Timer(this, fn, undefined, false);
    timer.arm(this.clock.toTrue(local));
    return timer;
  }

  /**
   * Runs `fn` after `duration` of this node's work: CPU time that a pause stops. A stop-the-world pause
   * of length P that overlaps the work makes it finish P later (or, for a pause that began before the
   * work was due, the remaining work runs after the resume). Use it for service times; use
   * {@link NetNode.setTimer} for wall-clock timers such as timeouts, which fire at the resume.
   * A negative or NaN duration (e.g. sampled from a normal distribution) is an `INVALID_DURATION`
   * error naming the node.
   *
   * @example
   * ```ts
   * node.work(exponential({ mean: 5 }).sample(rng), () => reply.ok(result));
   * ```
   */
  work(duration: Duration, fn: () => void): NodeTimer {
    return this._workWith(duration, fn, undefined);
  }

  /**
   * @internal {@link NetNode.work} calling `fn(arg)`: a component passes one long-lived function and the
   * request it works on, so a computation allocates no closure.
   */
  _workWith<A>(duration: Duration, fn: (arg: A) => void, arg: A): NodeTimer {
    const local =
      typeof duration === 'number' && duration >= 0 && duration !== Infinity
        ? duration
        : toMs(duration, `NetNode '${this.address}': work(duration)`);
    const timer = new Timer(this, fn as (arg: unknown) => void, arg, true);
    timer.arm(this.clock.toTrue(local));
    return timer;
  }

  /** @internal A timer came due: run it, stall it while paused, or drop it after a crash. */
  _fire(timer: Timer): void {
    if (timer.cancelled || timer.incarnation !== this._incarnation || this._state === 'down') return;
    if (!timer.work) {
      // A timer cancelled while stalled (its response arrived first) must not run at the resume.
      if (this._state === 'paused') this.stalled.push(() => timer.cancelled || timer.fn(timer.arg));
      else timer.fn(timer.arg);
      return;
    }
    const sim = this.network.sim;
    if (this._state === 'paused') {
      // Due during a pause: what was left when it began (plus earlier pauses) runs after the resume.
      const remaining = sim.now - this.pausedAt + (this.pausedTotal - timer.seen);
      this.stalled.push(() => {
        timer.seen = this.pausedTotal;
        timer.arm(remaining);
      });
      return;
    }
    const extra = this.pausedTotal - timer.seen;
    if (extra > 0) {
      // Pauses came and went while working: the work is that much later.
      timer.seen = this.pausedTotal;
      timer.arm(extra);
      return;
    }
    timer.fn(timer.arg);
  }

  /** @internal Pause time so far, for work timers. */
  get _pausedTotal(): number {
    return this.pausedTotal;
  }

  /** @internal Hands a message that reached this node to its handler (or queues it while paused). */
  _deliver(message: Message<P>): 'delivered' | 'queued' | 'down' {
    if (this._state === 'down') return 'down';
    if (this._state === 'paused') {
      this.inbox.push(message);
      return 'queued';
    }
    this.handler?.(message);
    return 'delivered';
  }

  /** @internal */
  _crash(): void {
    if (this._state === 'down') throw this.stateError('crash', 'it is already down');
    this._state = 'down';
    this._incarnation++;
    this.inbox = [];
    this.stalled = [];
    for (const hook of this.crashHooks) hook();
  }

  /** @internal */
  _restart(keepState: boolean): void {
    if (this._state !== 'down') throw this.stateError('restart', `it is ${this._state}, not down`);
    this._state = 'up';
    const info: RestartInfo = { keptState: keepState, incarnation: this._incarnation };
    for (const hook of this.restartHooks) hook(info);
  }

  /** @internal */
  _pause(): void {
    if (this._state !== 'up') throw this.stateError('pause', `it is ${this._state}`);
    this._state = 'paused';
    this.pausedAt = this.network.sim.now;
  }

  /** @internal Resumes; returns the messages that arrived meanwhile, for the network to deliver in order. */
  _resume(): { inbox: Message<P>[]; stalled: Array<() => void> } {
    if (this._state !== 'paused') throw this.stateError('resume', `it is ${this._state}, not paused`);
    this._state = 'up';
    this.pausedTotal += this.network.sim.now - this.pausedAt;
    const out = { inbox: this.inbox, stalled: this.stalled };
    this.inbox = [];
    this.stalled = [];
    return out;
  }

  /** @internal */
  _setCapacity(factor: number): void {
    if (typeof factor !== 'number' || !(factor > 0 && factor <= 1)) {
      throw invalidArgument('capacity factor', factor, 'a number in (0, 1]');
    }
    this._capacity = factor;
    for (const hook of this.capacityHooks) hook(factor);
  }

  private stateError(verb: string, why: string): DsimError {
    const sim = this.network.sim;
    return new DsimError('INVALID_STATE', `cannot ${verb} node '${this.address}': ${why}`, {
      simTime: sim.now,
      seed: sim.seed,
    });
  }
}

/**
 * A node's timer: one object per timer (no closures), queued as a plain callback entry. A work timer
 * (`work: true`) also tracks the node's pause time it has seen, so pauses stretch it.
 * @internal
 */
class Timer implements NodeTimer {
  /** Queue slot while armed, -1 otherwise. */
  _slot = -1;
  /** True once `cancel()` was called: a stalled or re-armed timer then never runs. */
  cancelled = false;
  readonly incarnation: number;
  /** The node's pause total when the work was (re)armed. */
  seen: number;

  constructor(
    readonly node: NetNode<any>,
    /** Called with `arg` (public timers' functions ignore it). */
    readonly fn: (arg: unknown) => void,
    readonly arg: unknown,
    readonly work: boolean,
  ) {
    this.incarnation = node.incarnation;
    this.seen = node._pausedTotal;
  }

  /** Queues the timer `delay` true ms from now. */
  arm(delay: number): void {
    const sim = this.node.network.sim;
    this._slot = sim._push(sim.now + delay, NORMAL, fireTimer, this, EventKind.callback, 0);
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    if (this._slot >= 0) this.node.network.sim._cancelIfHolds(this._slot, this);
    this._slot = -1;
  }
}

function fireTimer(timer: Timer): void {
  timer._slot = -1;
  timer.node._fire(timer);
}
