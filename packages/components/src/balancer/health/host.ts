import { invalidOption, isSimulation, NetNode, type NodeTimer, type Simulation } from '@dsim/core';

/**
 * Where a health component gets its time from: a {@link Simulation} (timers in true time that never
 * stop) or a {@link NetNode}, normally the balancer's node (timers in the node's local time that stall
 * while it is paused; a crash discards them and the component's state, and a restart starts it again).
 *
 * @example
 * ```ts
 * new OutlierDetection(sim);              // sweeps in true time
 * new OutlierDetection(net.node('lb'));   // sweeps on the balancer's node
 * ```
 */
export type HealthClock = Simulation | NetNode<any>;

/** @internal The resolved clock: the simulation, the node if any, and a timer that follows it. */
export interface ResolvedClock {
  readonly sim: Simulation;
  readonly node: NetNode<any> | null;
  /** Runs `fn` after `delay` ms (node-local when on a node); returns a cancellable handle. */
  after(delay: number, fn: () => void): NodeTimer;
}

/** @internal */
export function resolveClock(component: string, field: string, value: unknown): ResolvedClock {
  if (value instanceof NetNode) {
    const node = value as NetNode<any>;
    return { sim: node.network.sim, node, after: (delay, fn) => node.setTimer(delay, fn) };
  }
  if (isSimulation(value)) {
    const sim = value;
    return { sim, node: null, after: (delay, fn) => sim.schedule(delay, fn) };
  }
  throw invalidOption(component, field, value, 'a Simulation or a NetNode (the balancer node)');
}

/**
 * @internal Envoy's jitter rule: `interval + rand % jitterMs + rand % (interval × percent / 100)`, each
 * term drawn only when its bound is above 0 (so no jitter draws nothing).
 */
export function jittered(base: number, jitterMs: number, jitterPercent: number, next: () => number): number {
  let delay = base;
  if (jitterPercent > 0) delay += next() * ((base * jitterPercent) / 100);
  if (jitterMs > 0) delay += next() * jitterMs;
  return delay;
}
