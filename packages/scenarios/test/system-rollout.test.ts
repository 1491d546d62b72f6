import { CanaryRollout, Service, StranglerFacade } from '@dsim/components';
import { Network, RpcEndpoint, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/scenario.js';
import { compileSystem } from '../src/system/compile.js';
import type { SystemDescription } from '../src/system/schema.js';
import { defineSystemScenario } from '../src/system/system-scenario.js';
import { SystemError, validateSystem } from '../src/system/validate.js';
import { figure } from './support/figures.js';

const SEEDS = [1, 2, 3];

/**
 * 200 requests/s to a strangler, three quarters on the `invoices` route being rolled out to `billing`
 * (failing `errorRate` of its answers) in steps of 5 s analysed against a 99% success rate.
 */
const system = (errorRate: number, rollout: Record<string, unknown> = {}): SystemDescription =>
  ({
    nodes: {
      users: {
        kind: 'clients',
        target: 'facade',
        requests: [{ path: '/invoices/1', weight: 3 }, { path: '/reports' }],
        workload: { kind: 'open', rate: 200 },
        until: '30s',
      },
      facade: {
        kind: 'strangler',
        legacy: 'monolith',
        assignment: 'random',
        routes: [
          {
            name: 'invoices',
            path: '/invoices/*',
            to: 'billing',
            rollout: { steps: [0.1, 0.5, 1], interval: '5s', ...rollout },
          },
        ],
      },
      monolith: { kind: 'service', concurrency: 32, serviceTime: { exponential: { mean: 5 } } },
      billing: { kind: 'service', concurrency: 32, serviceTime: 2, errorRate },
    },
  }) as unknown as SystemDescription;

const PHASES = { first: [0, '5s'], last: ['20s', '30s'], all: [0, '30s'] } as const;

const run = (s: SystemDescription, seed: number) =>
  runScenario(defineSystemScenario({ name: 'rollout', description: 'rollout', system: s, phases: PHASES }), {
    seed,
  });

describe('canary rollouts on a strangler route', () => {
  it('promotes a good release step by step: weight 1 after the last interval, all invoices on billing', () => {
    for (const seed of SEEDS) {
      const o = run(system(0), seed).outcome;
      expect(o['facade.rollout.invoices.state']).toBe('promoted');
      expect(o['facade.rollout.invoices.finalWeight']).toBe(1);
      expect(o['facade.rollout.invoices.rolledBack']).toBe(0);
      // Three steps of 5 s, each passed at its end.
      expect(o['facade.rollout.invoices.promotedAt']).toBe(15);
      expect(o['facade.rollout.invoices.analyses']).toBe(3);
      expect(o['facade.rollout.invoices.failedAnalyses']).toBe(0);
      // The first step sends a tenth of the invoices; after promotion all of them.
      expect(Math.abs(figure(o, 'facade.first.modernShare.invoices') - 0.1)).toBeLessThan(0.03);
      expect(figure(o, 'facade.last.modernShare.invoices')).toBe(1);
      expect(o['facade.first.weight.invoices']).toBe(0.1);
      expect(o['facade.last.weight.invoices']).toBe(1);
      expect(figure(o, 'users.all.errorRate')).toBe(0);
    }
  });

  it('rolls a bad release back at the first analysis; its errors stop there', () => {
    for (const seed of SEEDS) {
      const o = run(system(0.1), seed).outcome;
      expect(o['facade.rollout.invoices.state']).toBe('rolled-back');
      expect(o['facade.rollout.invoices.finalWeight']).toBe(0);
      expect(o['facade.rollout.invoices.rolledBack']).toBe(1);
      // failureLimit 0: the first failed analysis (at the end of the first 5 s step) rolls back.
      expect(o['facade.rollout.invoices.rolledBackAt']).toBe(5);
      expect(o['facade.rollout.invoices.promotedAt']).toBeNull();
      expect(figure(o, 'facade.last.modernShare.invoices')).toBe(0);
      expect(o['facade.last.weight.invoices']).toBe(0);
      // Users see billing's 10% errors only in the first step: 0.75 × 0.1 × 0.1 of its requests.
      expect(Math.abs(figure(o, 'users.first.errorRate') - 0.0075)).toBeLessThan(0.006);
      expect(figure(o, 'users.last.errorRate')).toBe(0);
    }
  });

  it('failureLimit holds a failed step for another interval before rolling back', () => {
    for (const seed of SEEDS) {
      const o = run(system(0.1, { failureLimit: 1 }), seed).outcome;
      expect(o['facade.rollout.invoices.rolledBackAt']).toBe(10);
      expect(o['facade.rollout.invoices.failedAnalyses']).toBe(2);
    }
  });

  it('the analysis threshold decides: 5% errors pass a 90% success rate, fail a 99% one', () => {
    for (const seed of SEEDS) {
      expect(run(system(0.05, { minSuccessRate: 0.9 }), seed).outcome['facade.rollout.invoices.state']).toBe(
        'promoted',
      );
      expect(run(system(0.05), seed).outcome['facade.rollout.invoices.state']).toBe('rolled-back');
    }
  });

  it('a latency bound fails a slow release; too little traffic pauses the rollout', () => {
    const slow = system(0, { maxP99Ms: 1 });
    expect(run(slow, 1).outcome['facade.rollout.invoices.state']).toBe('rolled-back');
    // 15 invoices/s at a tenth is ~7.5 answers per 5 s step, below 100: inconclusive, then paused.
    const o = run(system(0, { minRequests: 100 }), 1).outcome;
    expect(o['facade.rollout.invoices.state']).toBe('paused');
    expect(o['facade.rollout.invoices.inconclusiveAnalyses']).toBe(1);
    expect(o['facade.rollout.invoices.finalWeight']).toBe(0.1);
  });

  it('the route keeps its weight until start', () => {
    const o = run(system(0, { start: '20s', steps: [1] }), 2).outcome;
    expect(o['facade.first.weight.invoices']).toBe(0);
    expect(figure(o, 'facade.first.modernShare.invoices')).toBe(0);
    expect(o['facade.rollout.invoices.promotedAt']).toBe(25);
  });

  it('matches CanaryRollout driven by hand on the same facade', () => {
    // The compiled rollout is the component: same history as one built directly over the same facade.
    const sim = new Simulation({ seed: 5 });
    const sys = compileSystem(sim, system(0.02));
    sim.run();
    const compiled = sys.rollouts.facade!.invoices!;
    const direct = new Simulation({ seed: 5 });
    const net = new Network(direct);
    for (const n of ['facade', 'monolith', 'billing', 'users']) net.addNode(n);
    new Service(net.node('monolith'), { concurrency: 32, serviceTime: 5 });
    new Service(net.node('billing'), { concurrency: 32, serviceTime: 2, errorRate: 0.02 });
    const facade = new StranglerFacade(net.node('facade'), {
      legacy: 'monolith',
      assignment: 'random',
      routes: [{ name: 'invoices', path: '/invoices/*', to: 'billing' }],
    });
    const rollout = new CanaryRollout(direct, facade, {
      route: 'invoices',
      steps: [0.1, 0.5, 1],
      interval: '5s',
    });
    const client = new RpcEndpoint(net.node('users'));
    for (let i = 0; i < 4000; i++)
      direct.schedule(i * 5, () => void client.call('facade', { method: 'GET', path: '/invoices/1' }));
    direct.run();
    // Both roll out the same way: each step analysed after 5 s; the verdicts agree (2% errors fail 99%).
    expect(compiled.history.map((a) => [a.at, a.weight])).toEqual(
      rollout.history.map((a) => [a.at, a.weight]),
    );
    expect(compiled.state).toBe(rollout.state);
  });

  it('same seed, same digest; another seed, another', () => {
    const s = system(0.02);
    const a = run(s, 7);
    expect(run(s, 7).digest).toBe(a.digest);
    expect(run(s, 8).digest).not.toBe(a.digest);
  });

  it('errors name the path, the value and what is allowed', () => {
    const message = (rollout: unknown) => {
      const s = system(0) as unknown as { nodes: { facade: { routes: Array<Record<string, unknown>> } } };
      s.nodes.facade.routes[0]!.rollout = rollout;
      try {
        validateSystem(s);
      } catch (e) {
        if (e instanceof SystemError) return e.message;
        throw e;
      }
      return 'valid';
    };
    expect(message({})).toBe('valid');
    expect(message({ steps: [0.5, 0.2, 1] })).toMatch(
      /nodes\.facade\.routes\[0\]\.rollout\.steps\[1\]: must be above the step before it \(0\.5\), got 0\.2/,
    );
    expect(message({ steps: [0.2, 0.5] })).toMatch(
      /nodes\.facade\.routes\[0\]\.rollout\.steps\[1\]: the last step must be 1 .*got 0\.5/,
    );
    expect(message({ steps: [0, 1] })).toMatch(/nodes\.facade\.routes\[0\]\.rollout\.steps\[0\]/);
    expect(message({ minSuccessRate: 1.5 })).toMatch(/nodes\.facade\.routes\[0\]\.rollout\.minSuccessRate/);
    expect(message({ failureLimit: -1 })).toMatch(/nodes\.facade\.routes\[0\]\.rollout\.failureLimit/);
    expect(message({ intervall: '5s' })).toMatch(/nodes\.facade\.routes\[0\]\.rollout.*intervall/);
    expect(message({ interval: 'soon' })).toMatch(/nodes\.facade\.routes\[0\]\.rollout\.interval/);
  });
});
