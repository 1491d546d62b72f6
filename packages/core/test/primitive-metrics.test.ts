import { describe, expect, it } from 'vitest';
import { Container } from '../src/container.js';
import { metricsCsv } from '../src/export/csv.js';
import { recordPerfetto } from '../src/export/perfetto.js';
import { exponential } from '../src/random/continuous.js';
import { Resource } from '../src/resource.js';
import { Simulation } from '../src/simulation.js';
import { TimeWeighted } from '../src/stats/time-weighted.js';
import { Store } from '../src/store.js';
import { thrown } from './support/thrown.js';

/** M/M/1 (lambda 0.8, mu 1 per ms) on a Resource; returns the run and an independent record of it. */
function mm1(name: string | undefined, customers = 20_000) {
  const sim = new Simulation({ seed: 3 });
  const server = new Resource(sim, name === undefined ? {} : { name });
  const arrivals = exponential({ mean: 1.25 });
  const service = exponential({ mean: 1 });
  const ar = sim.rng('arrivals');
  const sr = sim.rng('service');
  // Measured outside the resource: the queue length after every event (it only changes at events).
  const queue = new TimeWeighted(0, 0);
  const busy = new TimeWeighted(0, 0);
  sim.watch(1, (s) => {
    queue.set(s.now, server.queueLength);
    busy.set(s.now, server.inUse);
  });
  let waitSum = 0;
  sim.process(function* source() {
    for (let i = 0; i < customers; i++) {
      sim.process(function* customer() {
        const arrived = sim.now;
        const req = yield* server.request();
        waitSum += sim.now - arrived;
        yield sim.timeout(service.sample(sr));
        server.release(req);
      });
      yield sim.timeout(arrivals.sample(ar));
    }
  });
  sim.run();
  return { sim, server, queue, busy, waitSum, customers };
}

describe('named primitives record metrics', () => {
  it('a named Resource under M/M/1 load: queue gauge = the TimeWeighted queue length, wait histogram = the waits', () => {
    const { sim, queue, busy, waitSum, customers } = mm1('server');
    const end = sim.now;
    const q = sim.metrics.gauge('server', 'resource.queue');
    const inUse = sim.metrics.gauge('server', 'resource.in-use');
    const wait = sim.metrics.histogram('server', 'resource.wait');
    expect(q.mean(end)).toBeCloseTo(queue.mean(end), 9);
    expect(inUse.mean(end)).toBeCloseTo(busy.mean(end), 9);
    expect(q.max).toBe(queue.max);
    // Each customer adds its wait to the area under the queue length: integral = sum of waits.
    expect(q.integral(end) / waitSum).toBeCloseTo(1, 9);
    expect(wait.count).toBe(customers);
    expect(wait.summary().mean).toBeCloseTo(waitSum / customers, 9);
    // M/M/1 at rho 0.8: Lq = rho^2 / (1 - rho) = 3.2, utilisation 0.8 (sample-path noise: loose bounds).
    expect(q.mean(end)).toBeGreaterThan(2.4);
    expect(q.mean(end)).toBeLessThan(4.2);
    expect(inUse.mean(end)).toBeGreaterThan(0.75);
    expect(inUse.mean(end)).toBeLessThan(0.85);
  });

  it('naming changes neither the run nor its digest, and an unnamed resource records nothing', () => {
    const named = mm1('server', 3000);
    const unnamed = mm1(undefined, 3000);
    expect(unnamed.sim.hasMetrics).toBe(false);
    expect(named.sim.hasMetrics).toBe(true);
    expect(named.sim.digest()).toBe(unnamed.sim.digest());
    expect(named.sim.eventCount).toBe(unnamed.sim.eventCount);
    expect(named.waitSum).toBe(unnamed.waitSum);
  });

  it('yields a metrics series, CSV rows and Perfetto counters', () => {
    const sim = new Simulation({ seed: 1, metricsInterval: 100 });
    const rec = recordPerfetto(sim);
    const server = new Resource(sim, { name: 'servers', capacity: 2 });
    for (let i = 0; i < 6; i++) {
      sim.process(function* () {
        yield sim.timeout(i * 10);
        const req = yield* server.request();
        yield sim.timeout(70);
        server.release(req);
      });
    }
    sim.run();
    const series = sim.metrics.snapshot().series;
    const gauges = series.nodes.servers?.gauges;
    expect(Object.keys(gauges ?? {})).toEqual(['resource.queue', 'resource.in-use']);
    expect(gauges?.['resource.in-use']?.max[0]).toBe(2);
    expect(gauges?.['resource.queue']?.max[0]).toBe(4);
    expect(series.nodes.servers?.histograms['resource.wait']?.count.reduce((a, b) => a + b)).toBe(6);
    const csv = metricsCsv(series);
    expect(csv).toContain('\n,0,servers,resource.queue,max,4\n');
    expect(csv).toContain('\n,0,servers,resource.wait,count,');
    const counters = rec.trace().traceEvents.filter((e) => e.ph === 'C' && e.name === 'servers');
    expect(counters.length).toBe(18); // a request, a grant and a release per customer
    expect(counters.some((e) => e.args?.inUse === 2 && e.args?.queue === 3)).toBe(true);
  });

  it('a named Store records its size, waiting claims and waits', () => {
    const sim = new Simulation();
    const inbox = new Store<number>(sim, { name: 'inbox', capacity: 2 });
    const size = new TimeWeighted(0, 0);
    sim.watch(1, (s) => size.set(s.now, inbox.size));
    let residence = 0;
    const storedAt: number[] = [];
    sim.process(function* producer() {
      for (let i = 0; i < 10; i++) {
        yield* inbox.put(i);
        storedAt[i] = sim.now; // the put succeeds when the item is stored
        yield sim.timeout(1);
      }
    });
    sim.process(function* consumer() {
      yield sim.timeout(5);
      for (let i = 0; i < 10; i++) {
        const item = yield* inbox.get();
        residence += sim.now - storedAt[item]!;
        yield sim.timeout(3);
      }
    });
    sim.run();
    const m = sim.metrics;
    expect(m.gauge('inbox', 'store.size').mean(sim.now)).toBeCloseTo(size.mean(sim.now), 9);
    // Items enter when their put is served, so the area under the size is the time items spent inside.
    expect(m.gauge('inbox', 'store.size').integral(sim.now)).toBeCloseTo(residence, 9);
    expect(m.gauge('inbox', 'store.put-queue').max).toBe(1);
    expect(m.histogram('inbox', 'store.get-wait').count).toBe(10);
    expect(m.histogram('inbox', 'store.put-wait').count).toBe(10);
    expect(m.histogram('inbox', 'store.put-wait').summary().max).toBeGreaterThan(0);
  });

  it('a named Container records its level from the initial level on', () => {
    const sim = new Simulation();
    const tank = new Container(sim, { name: 'tank', capacity: 10, init: 4 });
    sim.process(function* () {
      yield sim.timeout(10);
      yield* tank.get(3); // level 1 from t = 10
      const late = tank.get(5); // waits until t = 20
      yield sim.timeout(10);
      tank.put(9); // level 1 + 9 - 5 = 5
      yield late;
    });
    sim.run({ until: 40 });
    const level = sim.metrics.gauge('tank', 'container.level');
    // 4 for 10 ms, 1 for 10 ms, 5 for 20 ms.
    expect(level.mean(40)).toBeCloseTo((4 * 10 + 1 * 10 + 5 * 20) / 40, 12);
    expect(sim.metrics.gauge('tank', 'container.get-queue').max).toBe(1);
    expect(sim.metrics.histogram('tank', 'container.get-wait').summary().max).toBe(10);
  });

  it('unnamed stores and containers record nothing', () => {
    const sim = new Simulation();
    const store = new Store<number>(sim);
    const tank = new Container(sim, { init: 1 });
    sim.process(function* () {
      yield* store.put(1);
      yield* store.get();
      yield* tank.get(1);
    });
    sim.run();
    expect(sim.hasMetrics).toBe(false);
  });

  it('two primitives of a kind cannot share a name (their metrics would overwrite each other)', () => {
    const sim = new Simulation();
    new Resource(sim, { name: 'db' });
    expect(thrown(() => new Resource(sim, { name: 'db' })).message).toBe(
      'Resource: name must be a name no other Resource of this simulation has (a named Resource records its metrics under its name), got "db"',
    );
    // Another kind, or another simulation, may use it.
    new Store(sim, { name: 'db' });
    new Resource(new Simulation(), { name: 'db' });
  });
});
