import {
  type Gauge,
  invalidOption,
  type NodeTimer,
  type RandomStream,
  RpcEndpoint,
  type RpcResponse,
  type Simulation,
} from '@dsim/core';
import { type ActiveHealthCheckOptions, type ResolvedActive, resolveActive } from './active-options.js';
import { jittered } from './host.js';
import type { BackendHealth, HealthBalancer } from './types.js';

/**
 * What the checks think of a backend. `'healthy'` and `'unhealthy'` are Envoy's words; HAProxy says
 * UP and DOWN.
 *
 * @example
 * ```ts
 * if (checker.state('app-1') === 'unhealthy') sim.log('app-1 is out');
 * ```
 */
export type CheckedState = 'healthy' | 'unhealthy';

/** One backend's checking session (Envoy's `ActiveHealthCheckSession`). */
interface Session {
  readonly address: string;
  healthy: boolean;
  /** Consecutive successes and failures ('consecutive' counting). */
  successes: number;
  failures: number;
  /** HAProxy's health counter ('health-counter' counting). */
  health: number;
  /** True until the first success under 'first-success' startup. */
  pending: boolean;
  timer: NodeTimer | null;
  active: boolean;
  readonly rng: RandomStream;
  readonly gauge: Gauge;
}

/**
 * Active health checking as Envoy and HAProxy do it: the balancer sends a check to every backend on its
 * own timer, and a backend flips UNHEALTHY after `unhealthyThreshold` failed checks and back HEALTHY
 * after `healthyThreshold` passed ones
 * (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/health_checking,
 * https://docs.haproxy.org/3.0/configuration.html#5.2-check). Implements the balancer's
 * `BackendHealth`: `isAvailable(address)` is true while the backend is HEALTHY.
 *
 * **Timing (Envoy's per-host session).** Each backend has its own timer. Its first check leaves at
 * `start` plus a uniform [0, initialJitter); each later check leaves `interval` (`unhealthyInterval`
 * while UNHEALTHY) plus jitter after the previous one *ended*: when its answer came back, or when its
 * `timeout` fired. A check passes when the backend answers ok, and fails on an error answer or a
 * timeout. With zero jitter and zero latency a backend that crashes at t is UNHEALTHY exactly when the
 * `unhealthyThreshold`-th timed-out check ends: each failed check takes `timeout`, then `interval` to
 * the next one.
 *
 * **The balancer node.** Checks go out through the balancer's own {@link RpcEndpoint} (one endpoint
 * per node owns its messages, so the checker cannot make its own). Its timers are node timers: they
 * stall while the node is paused, and a crash of the balancer node discards them and the checks'
 * state; on restart checking starts over as at startup.
 *
 * **Membership.** `start(balancer)` checks every address in `balancer.addresses` and follows that live
 * list, reconciling once per `interval`; `add(address)` / `remove(address)` change membership at once.
 * The timers run for ever: run the simulation with `until`, or call `stop()`.
 *
 * Not modelled: Envoy's `no_traffic_interval`, edge intervals, HTTP status rules (an unexpected status
 * failing a host at once), HAProxy's `fastinter`.
 *
 * Trace records (when `sim.tracing`): `@dsim.lb.health` `{ balancer, backend, state }` on every flip.
 * Metrics: gauge `lb.health.<backend>` under `name` (1 HEALTHY, 0 UNHEALTHY); counter `lb.health.checks`.
 *
 * @example
 * ```ts
 * const lbNode = net.addNode('lb');
 * const rpc = new RpcEndpoint(lbNode);
 * const checks = new ActiveHealthCheck(rpc, { preset: 'haproxy' }); // inter 2 s, fall 3, rise 2
 * checks.start({ addresses: ['app-0', 'app-1'] });
 * sim.run({ until: 60_000 });
 * checks.isAvailable('app-0');
 * ```
 */
export class ActiveHealthCheck implements BackendHealth {
  /** The resolved options. */
  readonly options: ResolvedActive;
  private readonly sim: Simulation;
  private readonly sessions = new Map<string, Session>();
  private balancer: HealthBalancer | null = null;
  private syncTimer: NodeTimer | null = null;
  private stopped = false;
  private started = false;
  /** Bumped when the balancer node crashes: answers to older checks are ignored. */
  private generation = 0;
  private sent = 0;
  /** Addresses added by hand, checked again after a restart of the balancer node. */
  private readonly members = new Set<string>();
  private readonly checksCounter;

  /**
   * @param endpoint - the balancer node's RpcEndpoint; checks are its calls
   * @param options - see {@link ActiveHealthCheckOptions}
   */
  constructor(
    private readonly endpoint: RpcEndpoint<any, any>,
    options?: ActiveHealthCheckOptions,
  ) {
    if (!(endpoint instanceof RpcEndpoint))
      throw invalidOption('ActiveHealthCheck', 'endpoint', endpoint, "the balancer node's RpcEndpoint");
    this.options = resolveActive(options, endpoint.node.address);
    this.sim = endpoint.node.network.sim;
    this.checksCounter = this.sim.metrics.counter(this.options.name, 'lb.health.checks');
    const node = endpoint.node;
    node.onCrash(() => {
      this.generation++;
      for (const s of this.sessions.values()) s.active = false;
      this.sessions.clear();
      this.syncTimer = null;
    });
    node.onRestart(() => {
      if (this.stopped || !this.started) return;
      for (const a of this.balancer?.addresses ?? []) this.add(a);
      for (const a of this.members) this.add(a);
      this.armSync();
    });
  }

  /** Checks sent so far. */
  get checks(): number {
    return this.sent;
  }

  /** The backends being checked. */
  get addresses(): readonly string[] {
    return [...this.sessions.keys()];
  }

  /**
   * Whether `address` may receive requests: HEALTHY. A backend not (yet) checked is available under
   * startup `'healthy'` and not under `'first-success'`.
   */
  isAvailable(address: string): boolean {
    const s = this.sessions.get(address);
    return s === undefined ? this.options.startup === 'healthy' : s.healthy;
  }

  /** The checked state of `address`, or undefined when it is not being checked. */
  state(address: string): CheckedState | undefined {
    const s = this.sessions.get(address);
    return s === undefined ? undefined : s.healthy ? 'healthy' : 'unhealthy';
  }

  /** Starts checking every backend of `balancer` and follows its live `addresses`. Called by the balancer. */
  start(balancer: HealthBalancer): void {
    if (balancer === null || typeof balancer !== 'object' || !Array.isArray(balancer.addresses))
      throw invalidOption(
        'ActiveHealthCheck',
        'start(balancer)',
        balancer,
        'an object with addresses: string[]',
      );
    this.balancer = balancer;
    this.started = true;
    for (const a of balancer.addresses) this.add(a);
    this.armSync();
  }

  /** Starts checking `address` (no-op if it is checked already). */
  add(address: string): void {
    if (typeof address !== 'string' || address === '')
      throw invalidOption('ActiveHealthCheck', 'add(address)', address, 'a non-empty address');
    this.started = true;
    if (this.balancer === null || !this.balancer.addresses.includes(address)) this.members.add(address);
    if (this.stopped || this.sessions.has(address) || !this.endpoint.node.isUp) return;
    const o = this.options;
    const s: Session = {
      address,
      healthy: o.startup === 'healthy',
      successes: 0,
      failures: 0,
      health: o.startup === 'healthy' ? o.healthyThreshold : o.healthyThreshold - 1,
      pending: o.startup === 'first-success',
      timer: null,
      active: true,
      rng: this.sim.rng(`${o.name}/health-check/${address}`),
      gauge: this.sim.metrics.gauge(o.name, `lb.health.${address}`),
    };
    s.gauge.set(s.healthy ? 1 : 0);
    this.sessions.set(address, s);
    const first = o.initialJitter > 0 ? s.rng.next() * o.initialJitter : 0;
    s.timer = this.endpoint.node.setTimer(first, () => this.check(s));
  }

  /** Stops checking `address` and forgets its state (no-op if it is not checked). */
  remove(address: string): void {
    this.members.delete(address);
    const s = this.sessions.get(address);
    if (s === undefined) return;
    s.active = false;
    s.timer?.cancel();
    s.gauge.set(0);
    this.sessions.delete(address);
  }

  /** Stops every check for good. */
  stop(): void {
    this.stopped = true;
    this.syncTimer?.cancel();
    this.syncTimer = null;
    for (const s of this.sessions.values()) {
      s.active = false;
      s.timer?.cancel();
    }
  }

  private armSync(): void {
    if (this.balancer === null || this.stopped || this.syncTimer !== null) return;
    const tick = (): void => {
      this.syncTimer = null;
      if (this.stopped || this.balancer === null) return;
      const live = this.balancer.addresses;
      for (const a of live) if (!this.sessions.has(a)) this.add(a);
      for (const a of [...this.sessions.keys()])
        if (!live.includes(a) && !this.members.has(a)) this.remove(a);
      this.syncTimer = this.endpoint.node.setTimer(this.options.interval, tick);
    };
    this.syncTimer = this.endpoint.node.setTimer(this.options.interval, tick);
  }

  private check(s: Session): void {
    s.timer = null;
    if (!s.active || this.stopped) return;
    const generation = this.generation;
    this.sent++;
    this.checksCounter.inc();
    this.endpoint
      .call(s.address, this.options.payload, { timeout: this.options.timeout })
      .onProcessed((e) => {
        if (!s.active || this.stopped || generation !== this.generation) return;
        this.record(s, (e.value as RpcResponse).ok);
        const o = this.options;
        const base = s.healthy ? o.interval : o.unhealthyInterval;
        const delay = jittered(base, o.intervalJitter, o.intervalJitterPercent, () => s.rng.next());
        s.timer = this.endpoint.node.setTimer(delay, () => this.check(s));
      });
  }

  private record(s: Session, ok: boolean): void {
    const o = this.options;
    if (o.counting === 'health-counter') {
      const rise = o.healthyThreshold;
      const max = rise + o.unhealthyThreshold - 1;
      if (ok) {
        if (s.health < max) s.health++;
        if (!s.healthy && s.health >= rise) {
          s.health = max;
          this.flip(s, true);
        }
      } else if (s.healthy) {
        if (s.health > rise) s.health--;
        else {
          s.health = 0;
          this.flip(s, false);
        }
      } else if (s.health > 0) s.health--;
      return;
    }
    if (ok) {
      s.failures = 0;
      s.successes++;
      if (!s.healthy && (s.pending || s.successes >= o.healthyThreshold)) this.flip(s, true);
      s.pending = false;
    } else {
      s.successes = 0;
      s.failures++;
      s.pending = false;
      if (s.healthy && s.failures >= o.unhealthyThreshold) this.flip(s, false);
    }
  }

  private flip(s: Session, healthy: boolean): void {
    s.healthy = healthy;
    s.gauge.set(healthy ? 1 : 0);
    const sim = this.sim;
    if (sim.tracing)
      sim.emit('@dsim.lb.health', {
        balancer: this.options.name,
        backend: s.address,
        state: healthy ? 'healthy' : 'unhealthy',
      });
  }
}
