import {
  type Distribution,
  exponential,
  Network,
  type ScheduledFault,
  Simulation,
  scheduleFaults,
} from '@dsim/core';
import { AmqpBroker } from '../src/messaging/amqp/broker.js';
import { SagaChoreography, type SagaChoreographyOptions } from '../src/saga/saga-choreography.js';
import { defineSaga, type SagaDefinition, type SagaStepSpec } from '../src/saga/saga-definition.js';
import type { SagaLedger } from '../src/saga/saga-ledger.js';
import { SagaOrchestrator, type SagaOrchestratorOptions } from '../src/saga/saga-orchestrator.js';

/** Options of a test saga: n compensable steps, an optional pivot, m retryable steps. */
export interface ChainOptions {
  compensable: number;
  pivot?: boolean;
  retryable?: number;
  /** Failure probability of each compensable step and the pivot. */
  f?: number;
  /** Failure probability of each attempt of a retryable step. */
  fRetry?: number;
  retryAttempts?: number;
  /** Failure probability of each compensation attempt. */
  g?: number;
  compensationAttempts?: number;
  idempotent?: boolean;
  latency?: Distribution | number;
}

/** A saga over participants p0, p1, ... (one per step), fixed 1 ms backoffs. */
export function chain(o: ChainOptions): SagaDefinition {
  const steps: SagaStepSpec[] = [];
  const latency = o.latency ?? exponential({ mean: 5 });
  const backoff = { kind: 'fixed', delayMs: 1 } as const;
  for (let i = 0; i < o.compensable; i++)
    steps.push({
      name: `c${i}`,
      participant: `p${steps.length}`,
      kind: 'compensable',
      latency,
      failureProbability: o.f ?? 0,
      idempotent: o.idempotent ?? true,
      compensation: {
        latency: 2,
        failureProbability: o.g ?? 0,
        retry: { maxAttempts: o.compensationAttempts ?? 1, backoff },
      },
    });
  if (o.pivot ?? false)
    steps.push({
      name: 'pivot',
      participant: `p${steps.length}`,
      kind: 'pivot',
      latency,
      failureProbability: o.f ?? 0,
      idempotent: o.idempotent ?? true,
    });
  for (let i = 0; i < (o.retryable ?? 0); i++)
    steps.push({
      name: `r${i}`,
      participant: `p${steps.length}`,
      kind: 'retryable',
      latency,
      failureProbability: o.fRetry ?? 0,
      retry: { maxAttempts: o.retryAttempts ?? Infinity, backoff },
    });
  return defineSaga({ name: 'test', steps });
}

/** What a rig run returns. */
export interface Rig {
  sim: Simulation;
  net: Network;
  ledger: SagaLedger;
  orchestrator?: SagaOrchestrator;
  choreography?: SagaChoreography;
}

/** Network with every participant of `saga`, plus `extra` nodes. */
export function network(seed: number, saga: SagaDefinition, latency: Distribution | number, extra: string[]) {
  const sim = new Simulation({ seed });
  const net = new Network(sim, { defaults: { latency } });
  for (const p of saga.participants) net.addNode(p);
  for (const a of extra) net.addNode(a);
  return { sim, net };
}

/** Runs `sagas` sagas, one every `every` ms, through an orchestrator on node 'orch', until all end. */
export function runOrchestrated(
  seed: number,
  saga: SagaDefinition,
  sagas: number,
  options: Partial<SagaOrchestratorOptions> & {
    netLatency?: Distribution | number;
    faults?: ScheduledFault[];
  } = {},
  every = 5,
): Rig {
  const { netLatency, faults, ...rest } = options;
  const { sim, net } = network(seed, saga, netLatency ?? 1, ['orch']);
  const orchestrator = new SagaOrchestrator(net.node('orch'), { saga, commandTimeout: 1000, ...rest });
  for (let i = 0; i < sagas; i++) sim.scheduleAt(i * every, () => orchestrator.start());
  if (faults !== undefined) scheduleFaults(net, faults);
  sim.run();
  return { sim, net, ledger: orchestrator.ledger, orchestrator };
}

/** Runs `sagas` sagas through a choreography on broker 'rabbit', starter 'api', for `tail` ms after the last. */
export function runChoreographed(
  seed: number,
  saga: SagaDefinition,
  sagas: number,
  options: Partial<SagaChoreographyOptions> & {
    netLatency?: Distribution | number;
    faults?: ScheduledFault[];
    brokerHeartbeat?: number;
  } = {},
  every = 5,
  tail = 120_000,
): Rig {
  const { netLatency, faults, brokerHeartbeat, ...rest } = options;
  const { sim, net } = network(seed, saga, netLatency ?? 1, ['api', 'rabbit']);
  const broker = new AmqpBroker(net.node('rabbit'), { heartbeat: brokerHeartbeat ?? 2000 });
  const choreography = new SagaChoreography(net, {
    saga,
    broker,
    starter: 'api',
    heartbeat: brokerHeartbeat ?? 2000,
    ...rest,
  });
  for (let i = 0; i < sagas; i++) sim.scheduleAt(100 + i * every, () => choreography.start());
  if (faults !== undefined) scheduleFaults(net, faults);
  sim.run({ until: 100 + sagas * every + tail });
  return { sim, net, ledger: choreography.ledger, choreography };
}

/** |measured − expected| in standard errors of a proportion over n trials. */
export function zScore(count: number, n: number, p: number): number {
  const sd = Math.sqrt((p * (1 - p)) / n);
  return sd === 0 ? (count / n === p ? 0 : Infinity) : Math.abs(count / n - p) / sd;
}
