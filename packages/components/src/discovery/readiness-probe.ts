import {
  checkDuration,
  checkName,
  checkNumber,
  type Duration,
  invalidOption,
  type NetNode,
  type NodeTimer,
  optionKeys,
  RpcEndpoint,
  requireOptions,
} from '@dsim/core';

/**
 * Options of a {@link ReadinessProbe}. Defaults are Kubernetes' probe defaults ("Configure Liveness,
 * Readiness and Startup Probes",
 * https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/).
 *
 * @example
 * ```ts
 * const options: ReadinessProbeOptions = { target: 'orders-0', period: '10s', failureThreshold: 3 };
 * ```
 */
export interface ReadinessProbeOptions {
  /** The pod's node address. */
  target: string;
  /** Time between probes (`periodSeconds`). A duration > 0. @default 10000 */
  period?: Duration;
  /** How long a probe waits for its answer (`timeoutSeconds`). A duration > 0. @default 1000 */
  timeout?: Duration;
  /** Consecutive failures that mark the pod not ready (`failureThreshold`). An integer >= 1. @default 3 */
  failureThreshold?: number;
  /** Consecutive successes that mark it ready again (`successThreshold`). An integer >= 1. @default 1 */
  successThreshold?: number;
  /** No probe runs before the container has been running this long (`initialDelaySeconds`). A duration >= 0. @default 0 */
  initialDelay?: Duration;
  /** When the container starts and the prober with it (the probes' phase). A duration >= 0. @default 0 */
  startAfter?: Duration;
  /** What a probe sends to the pod's RpcEndpoint. @default 'ready' */
  payload?: unknown;
}

const PROBE_KEYS = optionKeys<ReadinessProbeOptions>()({
  target: true,
  period: true,
  timeout: true,
  failureThreshold: true,
  successThreshold: true,
  initialDelay: true,
  startAfter: true,
  payload: true,
});

/** Every {@link ReadinessProbeOptions} resolved. */
export interface ResolvedReadinessProbe {
  readonly target: string;
  readonly period: number;
  readonly timeout: number;
  readonly failureThreshold: number;
  readonly successThreshold: number;
  readonly initialDelay: number;
  readonly startAfter: number;
  readonly payload: unknown;
}

/**
 * What a {@link ReadinessProbe} has done so far.
 *
 * @example
 * ```ts
 * const { probes, failures } = probe.stats;
 * ```
 */
export interface ReadinessProbeStats {
  probes: number;
  failures: number;
}

/**
 * A kubelet's readiness probe of one pod: a probe (an RPC from the kubelet's node to the pod, so a
 * partition or a hung pod fails it by `timeout`) on a ticker of `period`, as the kubelet's prober
 * worker runs it: ticks at the start plus multiples of `period`; no probe while the container has run
 * less than `initialDelay`; a tick that comes while a probe is still running is kept and runs the next
 * probe as soon as it ends (Go's ticker buffers one tick). The pod starts not ready; `successThreshold`
 * consecutive successes make it ready and `failureThreshold` consecutive failures not ready.
 *
 * With `timeout` < `period` and a pod that stops answering at t, it is marked not ready at the
 * `failureThreshold`-th probe from the first tick at or after t, when that probe's timeout fires:
 * between `(failureThreshold − 1) × period + timeout` and `failureThreshold × period + timeout` after t
 * (20 + 1 to 30 + 1 s with the defaults). A container that exits is seen by the kubelet at once, without
 * the probes: this models a pod that hangs or is cut off.
 *
 * Feed {@link ServiceEndpoints} with it; `onChange` hears every flip. A crash of the kubelet's node stops
 * its probes for good (their timers die with it) and the pod keeps its last state.
 *
 * @example
 * ```ts
 * const probe = new ReadinessProbe(net.addNode('kubelet-0'), { target: 'orders-0' });
 * probe.onChange((ready) => sim.log(`orders-0 ${ready ? 'ready' : 'not ready'}`));
 * ```
 */
export class ReadinessProbe {
  /** The resolved options. */
  readonly options: ResolvedReadinessProbe;
  private readonly endpoint: RpcEndpoint;
  private isReady = false;
  private run = 0;
  private lastOk: boolean | null = null;
  private inFlight = false;
  private tickPending = false;
  private startedAt = Number.NaN;
  private stopped = false;
  private timer: NodeTimer | null = null;
  private readonly listeners: Array<(ready: boolean, address: string) => void> = [];
  private readonly counts: ReadinessProbeStats = { probes: 0, failures: 0 };

  /**
   * @param kubelet - the node the probes leave from (the kubelet of the pod's host)
   * @param options - see {@link ReadinessProbeOptions}
   */
  constructor(
    readonly kubelet: NetNode<any>,
    options: ReadinessProbeOptions,
  ) {
    const C = 'ReadinessProbe';
    if (kubelet === null || typeof kubelet !== 'object' || typeof kubelet.setTimer !== 'function')
      throw invalidOption(C, 'kubelet', kubelet, 'a network node (net.addNode(...))');
    requireOptions(C, options, PROBE_KEYS);
    const o = options;
    const positive = { positive: true } as const;
    const int = { integer: true, min: 1 } as const;
    this.options = {
      target: checkName(C, 'target', o.target),
      period: checkDuration(C, 'period', o.period, positive, 10_000),
      timeout: checkDuration(C, 'timeout', o.timeout, positive, 1000),
      failureThreshold: checkNumber(C, 'failureThreshold', o.failureThreshold, int, 3),
      successThreshold: checkNumber(C, 'successThreshold', o.successThreshold, int, 1),
      initialDelay: checkDuration(C, 'initialDelay', o.initialDelay, {}, 0),
      startAfter: checkDuration(C, 'startAfter', o.startAfter, {}, 0),
      payload: o.payload === undefined ? 'ready' : o.payload,
    };
    this.endpoint = RpcEndpoint.of(kubelet);
    kubelet.setTimer(this.options.startAfter, () => {
      this.startedAt = kubelet.network.sim.now;
      this.tick();
    });
  }

  /** Whether the pod is ready now. */
  get ready(): boolean {
    return this.isReady;
  }

  /** The probed pod's address. */
  get address(): string {
    return this.options.target;
  }

  /** A copy of the counts. */
  get stats(): ReadinessProbeStats {
    return { ...this.counts };
  }

  /** Calls `listener(ready, address)` at every flip; returns a function that removes it. */
  onChange(listener: (ready: boolean, address: string) => void): () => void {
    if (typeof listener !== 'function')
      throw invalidOption(
        'ReadinessProbe',
        'onChange(listener)',
        listener,
        'a function (ready, address) => void',
      );
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  /** Stops probing for good; the state stays as it is. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  private tick(): void {
    if (this.stopped) return;
    this.timer = this.kubelet.setTimer(this.options.period, () => this.tick());
    if (this.inFlight) this.tickPending = true;
    else this.probe();
  }

  private probe(): void {
    const o = this.options;
    const sim = this.kubelet.network.sim;
    if (sim.now - this.startedAt < o.initialDelay) return;
    this.inFlight = true;
    this.counts.probes++;
    this.endpoint.callThen(o.target, o.payload, { timeout: o.timeout }, (res) => {
      this.inFlight = false;
      if (this.stopped || this.kubelet.state === 'down') return;
      this.record(res.ok);
      if (this.tickPending) {
        this.tickPending = false;
        this.probe();
      }
    });
  }

  private record(ok: boolean): void {
    const o = this.options;
    if (!ok) this.counts.failures++;
    this.run = ok === this.lastOk ? this.run + 1 : 1;
    this.lastOk = ok;
    if (ok ? this.run < o.successThreshold : this.run < o.failureThreshold) return;
    if (ok === this.isReady) return;
    this.isReady = ok;
    for (const listener of [...this.listeners]) listener(ok, o.target);
  }
}
