import type { Counter, Gauge, Histogram, NetNode } from '@dsim/core';

/**
 * What a {@link ProxyCpu} has done. At every moment
 * `submitted = completed + running + queued + dropped` (dropped: lost in a crash of the proxy's node).
 *
 * @example
 * ```ts
 * const { completed, cpuMs } = proxy.cpu.stats;
 * ```
 */
export interface ProxyCpuStats {
  /** Tasks given to the CPU (zero-cost tasks never reach it). */
  submitted: number;
  /** Tasks whose CPU time has been spent. */
  completed: number;
  /** Tasks on a worker now. */
  running: number;
  /** Tasks waiting for a worker now. */
  queued: number;
  /** Tasks lost when the proxy's node crashed (running or queued then). */
  dropped: number;
  /** CPU time spent by completed tasks, ms (their cost, stretched by a degraded node's capacity). */
  cpuMs: number;
  /** The longest the queue has been. */
  maxQueue: number;
}

interface Task {
  readonly cost: number;
  readonly done: () => void;
  readonly at: number;
}

const TAKEN: Task = Object.freeze({ cost: 0, done: () => {}, at: 0 });

/**
 * A proxy's CPU: `workers` threads serving CPU tasks first come, first served, so a proxy saturates
 * at `workers / cost` tasks per ms and queues beyond it (an M/D/c queue for constant costs). Work runs
 * on the proxy's node (`node.work`): a pause stretches it, a `degrade` fault divides the speed, a
 * crash loses what was queued or running.
 *
 * Envoy pins each connection to one worker thread, so a real proxy with few connections can queue on
 * one thread while another idles; this shared queue is the optimistic case.
 *
 * Metrics under `name`: gauges `proxy.cpu.busy` (workers busy) and `proxy.cpu.queue`; histogram
 * `proxy.cpu.wait` (queueing before a task runs); counter `proxy.cpu.tasks`.
 *
 * @example
 * ```ts
 * const cpu = new ProxyCpu(net.addNode('a-0.sidecar'), 2);
 * cpu.run(0.35, () => forward()); // 0.35 ms of CPU, then forward
 * ```
 */
export class ProxyCpu {
  private busyCount = 0;
  private queue: Task[] = [];
  private head = 0;
  /** ∫ busy workers dt up to `areaAt`, ms. */
  private area = 0;
  private areaAt = 0;
  private readonly counts: ProxyCpuStats = {
    submitted: 0,
    completed: 0,
    running: 0,
    queued: 0,
    dropped: 0,
    cpuMs: 0,
    maxQueue: 0,
  };
  private readonly meters: { busy: Gauge; queue: Gauge; wait: Histogram; tasks: Counter };

  /**
   * @param node - the proxy's node: the work runs there
   * @param workers - threads, an integer >= 1 (checked by the owner)
   * @param name - id for metrics @default the node's address
   */
  constructor(
    readonly node: NetNode<any>,
    readonly workers: number,
    name: string = node.address,
  ) {
    const sim = node.network.sim;
    this.areaAt = sim.now;
    const m = sim.metrics;
    this.meters = {
      busy: m.gauge(name, 'proxy.cpu.busy'),
      queue: m.gauge(name, 'proxy.cpu.queue'),
      wait: m.histogram(name, 'proxy.cpu.wait'),
      tasks: m.counter(name, 'proxy.cpu.tasks'),
    };
    node.onCrash(() => {
      this.account();
      const lost = this.busyCount + this.queue.length - this.head;
      this.counts.dropped += lost;
      this.busyCount = 0;
      this.queue = [];
      this.head = 0;
      this.counts.running = 0;
      this.counts.queued = 0;
      this.meters.busy.set(0);
      this.meters.queue.set(0);
    });
  }

  /** A copy of the counts. */
  get stats(): ProxyCpuStats {
    return { ...this.counts };
  }

  /** Workers busy now. */
  get busy(): number {
    return this.busyCount;
  }

  /** Tasks waiting now. */
  get queueLength(): number {
    return this.queue.length - this.head;
  }

  /**
   * CPU time used so far, ms: the integral of busy workers over time (running tasks count for the part
   * done). Its growth over a window divided by the window's length is the vCPU used.
   *
   * @example
   * ```ts
   * const before = cpu.busyMs();
   * // ... 1000 ms later:
   * const vcpu = (cpu.busyMs() - before) / 1000;
   * ```
   */
  busyMs(): number {
    this.account();
    return this.area;
  }

  /**
   * Spends `costMs` of CPU on a worker (after waiting for one), then calls `done`. A cost of 0 calls
   * `done` at once without touching the queue. `done` is never called if the node crashes first.
   *
   * @param costMs - CPU time, ms, >= 0 (checked by the owner)
   */
  run(costMs: number, done: () => void): void {
    if (costMs === 0) {
      done();
      return;
    }
    this.counts.submitted++;
    this.meters.tasks.inc();
    const now = this.node.network.sim.now;
    if (this.busyCount < this.workers) {
      this.meters.wait.record(0);
      this.start(costMs, done);
      return;
    }
    this.queue.push({ cost: costMs, done, at: now });
    const waiting = this.queue.length - this.head;
    this.counts.queued = waiting;
    if (waiting > this.counts.maxQueue) this.counts.maxQueue = waiting;
    this.meters.queue.set(waiting);
  }

  private start(cost: number, done: () => void): void {
    this.account();
    this.busyCount++;
    this.counts.running = this.busyCount;
    this.meters.busy.set(this.busyCount);
    const duration = cost / this.node.capacity;
    const incarnation = this.node.incarnation;
    this.node.work(duration, () => {
      if (this.node.incarnation !== incarnation) return;
      this.account();
      this.busyCount--;
      this.counts.running = this.busyCount;
      this.counts.completed++;
      this.counts.cpuMs += duration;
      this.next();
      this.meters.busy.set(this.busyCount);
      done();
    });
  }

  private next(): void {
    if (this.head >= this.queue.length) return;
    const task = this.queue[this.head]!;
    this.queue[this.head++] = TAKEN;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    const waiting = this.queue.length - this.head;
    this.counts.queued = waiting;
    this.meters.queue.set(waiting);
    this.meters.wait.record(this.node.network.sim.now - task.at);
    this.start(task.cost, task.done);
  }

  /** Brings the busy-time integral up to now. */
  private account(): void {
    const now = this.node.network.sim.now;
    this.area += this.busyCount * (now - this.areaAt);
    this.areaAt = now;
  }
}
