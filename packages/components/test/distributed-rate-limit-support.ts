import { constant, type Distribution, Network, RpcEndpoint, Simulation } from '@dsim/core';
import { WindowAccuracy } from '../src/resilience/distributed-rate-limit/accuracy.js';
import {
  CentralLimiter,
  type CentralLimiterOptions,
} from '../src/resilience/distributed-rate-limit/central.js';
import {
  LocalShareLimiter,
  type LocalShareLimiterOptions,
} from '../src/resilience/distributed-rate-limit/local-share.js';
import {
  RateLimitStore,
  type RateLimitStoreOptions,
} from '../src/resilience/distributed-rate-limit/store.js';
import { SyncedLimiter, type SyncedLimiterOptions } from '../src/resilience/distributed-rate-limit/synced.js';
import type { AdmitDecision, DistributedLimiter } from '../src/resilience/distributed-rate-limit/types.js';

/** Which design each instance runs, with its options (the store address is filled in). */
export type Design =
  | { kind: 'local'; options: LocalShareLimiterOptions }
  | { kind: 'central'; options?: Omit<CentralLimiterOptions, 'store'> }
  | { kind: 'synced'; options: Omit<SyncedLimiterOptions, 'store' | 'firstSyncAt'>; staggered?: boolean };

export interface ClusterOptions {
  seed?: number;
  instances: number;
  design: Design;
  /** Global policy the decisions are judged against. */
  limit: number;
  windowMs: number;
  /** One-way latency between instances and the store. @default 0.5 */
  latency?: number | Distribution;
  store?: RateLimitStoreOptions;
}

export interface Decided {
  instance: number;
  arrivedAt: number;
  decision: AdmitDecision;
}

/** N instances and a store on one network, a limiter per instance, and a tally of every decision. */
export function cluster(options: ClusterOptions) {
  const sim = new Simulation({ seed: options.seed ?? 1 });
  const latency = options.latency ?? 0.5;
  const net = new Network(sim, {
    defaults: { latency: typeof latency === 'number' ? constant(latency) : latency },
  });
  const storeNode = net.addNode('store');
  const store = new RateLimitStore(storeNode, options.store ?? {});
  const nodes = Array.from({ length: options.instances }, (_, i) => net.addNode(`instance-${i}`));
  const design = options.design;
  const limiterFor = (node: (typeof nodes)[number], i: number): DistributedLimiter => {
    if (design.kind === 'local') return new LocalShareLimiter(sim, design.options);
    if (design.kind === 'central')
      return new CentralLimiter(RpcEndpoint.of(node), { store: 'store', ...design.options });
    const s = Number(design.options.syncInterval);
    const firstSyncAt = design.staggered === false ? s : (s * (i + 1)) / options.instances;
    return new SyncedLimiter(RpcEndpoint.of(node), { store: 'store', firstSyncAt, ...design.options });
  };
  const limiters = nodes.map(limiterFor);
  const accuracy = new WindowAccuracy({ limit: options.limit, windowMs: options.windowMs });
  const decided: Decided[] = [];
  /** How many times each request's `done` ran: exactly once each, or the test fails. */
  const doneCalls: number[] = [];
  let offered = 0;
  const arrive = (instance: number, key = 'client'): void => {
    const id = offered++;
    doneCalls.push(0);
    const arrivedAt = sim.now;
    limiters[instance]!.admit(key, (decision) => {
      doneCalls[id]!++;
      decided.push({ instance, arrivedAt, decision });
      accuracy.record(arrivedAt, decision.allowed);
    });
  };
  /** Schedules an arrival at `instance` at each of `times` (ms). */
  const schedule = (instance: number, times: readonly number[]): void => {
    for (const t of times) sim.scheduleAt(t, () => arrive(instance));
  };
  return {
    sim,
    net,
    store,
    nodes,
    limiters,
    accuracy,
    decided,
    doneCalls,
    arrive,
    schedule,
    get offered() {
      return offered;
    },
  };
}

/** `count` times evenly spread over [from, to): from + (to − from) × k / count. */
export function spread(count: number, from: number, to: number): number[] {
  return Array.from({ length: count }, (_, k) => from + ((to - from) * k) / count);
}
