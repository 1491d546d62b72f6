import { DsimError, exponential, Network, RpcEndpoint, type RpcResponse, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { Service } from '../src/service/service.js';
import type { ServiceOptions } from '../src/service/service-options.js';

/** Poisson client (rate per ms) against one service over a zero-latency network; collects responses. */
function run(options: ServiceOptions, lambdaPerMs: number, requests: number, seed = 1, timeout?: number) {
  const sim = new Simulation({ seed });
  const net = new Network(sim);
  const service = new Service(net.addNode('svc'), options);
  const client = new RpcEndpoint(net.addNode('client'));
  const gaps = exponential({ rate: lambdaPerMs });
  const rng = sim.rng('client/arrivals');
  const responses: RpcResponse[] = [];
  sim.process(function* () {
    for (let i = 0; i < requests; i++) {
      client
        .call('svc', i, timeout === undefined ? {} : { timeout })
        .onProcessed((e) => responses.push(e.value!));
      yield sim.timeout(gaps.sample(rng));
    }
  });
  sim.run();
  return { sim, service, client, responses };
}

function meanLatency(responses: RpcResponse[], skip = 0.05): number {
  const ok = responses.filter((r) => r.ok).slice(Math.floor(responses.length * skip));
  return ok.reduce((a, r) => a + r.latency, 0) / ok.length;
}

describe('Service against queueing theory', () => {
  it('M/M/1 at rho 0.5: mean time in system 1/(mu - lambda) = 2 ms', () => {
    for (const seed of [1, 2]) {
      const { responses } = run({ serviceTime: exponential({ mean: 1 }) }, 0.5, 100_000, seed);
      expect(Math.abs(meanLatency(responses) - 2) / 2).toBeLessThan(0.04);
    }
  });

  it('M/M/3 at lambda 2, mu 1: W = Erlang C wait + 1 = 1.444 ms', () => {
    const { responses } = run({ concurrency: 3, serviceTime: exponential({ mean: 1 }) }, 2, 100_000);
    const theory = 4 / 9 / (3 - 2) + 1; // C(3, 2) = 4/9
    expect(Math.abs(meanLatency(responses) - theory) / theory).toBeLessThan(0.04);
  });

  it('M/M/1/K: a full queue rejects with probability (1 - rho) rho^K / (1 - rho^(K+1))', () => {
    const rho = 0.9;
    const K = 3; // one in service + two queue slots
    const { responses, service } = run(
      { serviceTime: exponential({ mean: 1 }), queueCapacity: 2 },
      rho,
      100_000,
    );
    const rejected =
      responses.filter((r) => !r.ok && r.error.kind === 'overloaded').length / responses.length;
    const theory = ((1 - rho) * rho ** K) / (1 - rho ** (K + 1));
    expect(Math.abs(rejected - theory)).toBeLessThan(0.01);
    expect(service.queueLength).toBe(0);
  });
});

describe('Service behaviour', () => {
  it('LIFO serves the newest queued request first; FIFO the oldest', () => {
    for (const discipline of ['fifo', 'lifo'] as const) {
      const sim = new Simulation();
      const net = new Network(sim);
      new Service(net.addNode('svc'), { serviceTime: 10, discipline });
      const client = new RpcEndpoint(net.addNode('c'));
      const order: number[] = [];
      for (let i = 0; i < 4; i++)
        client.call('svc', i).onProcessed((e) => order.push(e.value!.request.payload as number));
      sim.run();
      expect(order).toEqual(discipline === 'fifo' ? [0, 1, 2, 3] : [0, 3, 2, 1]);
    }
  });

  it('priority serves the lowest priority value first, FIFO among equals', () => {
    const sim = new Simulation();
    const net = new Network(sim);
    new Service(net.addNode('svc'), {
      serviceTime: 10,
      discipline: 'priority',
      priority: (r) => (r.payload as number) % 2,
    });
    const client = new RpcEndpoint(net.addNode('c'));
    const order: number[] = [];
    for (let i = 0; i < 6; i++)
      client.call('svc', i).onProcessed((e) => order.push(e.value!.request.payload as number));
    sim.run();
    expect(order).toEqual([0, 2, 4, 1, 3, 5]);
  });

  it('drops queued requests whose caller gave up (dropExpired) instead of serving them', () => {
    const base = { concurrency: 1, serviceTime: 10 } as const;
    const keep = run({ ...base }, 1, 50, 1, 25);
    const drop = run({ ...base, dropExpired: true }, 1, 50, 1, 25);
    const completedKeep = keep.sim.metrics.counter('svc', 'svc.completed').value;
    const completedDrop = drop.sim.metrics.counter('svc', 'svc.completed').value;
    const expired = drop.sim.metrics.counter('svc', 'svc.expired').value;
    expect(completedKeep).toBe(50); // serves everything, mostly for callers that are gone
    expect(keep.client.stats.late).toBeGreaterThan(30);
    expect(completedDrop + expired).toBe(50);
    expect(expired).toBeGreaterThan(30);
    expect(drop.client.stats.late).toBeLessThan(keep.client.stats.late);
  });

  it('queueTimeout drops requests that waited too long', () => {
    const { sim } = run({ serviceTime: 10, queueTimeout: 15 }, 1, 20);
    expect(sim.metrics.counter('svc', 'svc.expired').value).toBeGreaterThan(0);
  });

  it('errorRate fails the configured share; degrade stretches service time', () => {
    const { responses } = run({ serviceTime: exponential({ mean: 0.1 }), errorRate: 0.2 }, 1, 20_000);
    const failed = responses.filter((r) => !r.ok).length / responses.length;
    expect(Math.abs(failed - 0.2)).toBeLessThan(5 * Math.sqrt((0.2 * 0.8) / 20_000));

    const sim = new Simulation();
    const net = new Network(sim);
    new Service(net.addNode('svc'), { serviceTime: 10 });
    const client = new RpcEndpoint(net.addNode('c'));
    net.degrade('svc', 0.5);
    let latency = 0;
    client.call('svc', 1).onProcessed((e) => (latency = e.value!.latency));
    sim.run();
    expect(latency).toBe(20);
  });

  it('a crash loses the queue and the work in progress; callers time out', () => {
    const sim = new Simulation();
    const net = new Network(sim);
    const svc = new Service(net.addNode('svc'), { serviceTime: 10 });
    const client = new RpcEndpoint(net.addNode('c'));
    for (let i = 0; i < 3; i++) client.call('svc', i, { timeout: 100 });
    sim.schedule(5, () => net.crash('svc'));
    sim.schedule(6, () => net.restart('svc'));
    sim.run();
    expect(client.stats.failedBy.timeout).toBe(3);
    expect(svc.queueLength).toBe(0);
    expect(svc.busy).toBe(0);
  });

  it('rejects bad options, naming the field', () => {
    const sim = new Simulation();
    const net = new Network(sim);
    const cases: Array<[Partial<ServiceOptions>, string]> = [
      [{ concurrency: 0 }, 'concurrency'],
      [{ queueCapacity: -1 }, 'queueCapacity'],
      [{ discipline: 'random' as 'fifo' }, 'discipline'],
      [{ discipline: 'priority' }, 'priority'],
      [{ errorRate: 2 }, 'errorRate'],
      [{ serviceTime: 'slow' }, 'serviceTime'],
    ];
    cases.forEach(([opts, field], i) => {
      try {
        new Service(net.addNode(`n${i}`), { serviceTime: 1, ...opts } as ServiceOptions);
        throw new Error(`expected ${field} to be rejected`);
      } catch (error) {
        expect(error).toBeInstanceOf(DsimError);
        expect((error as DsimError).message).toContain(field);
      }
    });
  });
});
