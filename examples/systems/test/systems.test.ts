import { runScenario } from '@dsim/scenarios';
import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import autoscaling from '../autoscaling.scenario.js';
import blackHole from '../black-hole.scenario.js';
import canary from '../canary.scenario.js';
import cdnCrash from '../cdn.scenario.js';
import fullSystem from '../full-system.scenario.js';
import orders from '../orders.scenario.js';
import retryStorm from '../retry-storm.scenario.js';
import threeTier from '../three-tier.scenario.js';

describe('example: systems described as data', () => {
  it('the three-tier incident: fine before, the database saturates during the cache crash, fine after', () => {
    const r = runScenario(threeTier, { seed: 1 });
    expect(r).toPassChecks();
    expect(r.outcome['users.during.availability'] as number).toBeLessThan(0.5);
  }, 60_000);

  it('a canary rollout promotes a good release and rolls a bad one back', () => {
    const r = runScenario(canary, { seed: 1 });
    expect(r).toPassChecks();
    const [good, bad] = r.variants.map((v) => v.outcome);
    expect(good!['facade.rollout.invoices.state']).toBe('promoted');
    expect(bad!['facade.rollout.invoices.state']).toBe('rolled-back');
    expect(bad!['users.rest.errorRate']).toBe(0);
  }, 60_000);

  it('the retry storm stays down after the pause', () => {
    const r = runScenario(retryStorm, { seed: 1 });
    expect(r).toPassChecks();
    expect(r.outcome['client.after.goodput']).toBe(0);
  }, 60_000);

  it('a broker crash under a Kafka pipeline: publishing stalls, nothing acknowledged is lost', () => {
    const r = runScenario(orders, { seed: 1 });
    expect(r).toPassChecks();
    expect(r.topology?.nodes.map((n) => n.kind)).toEqual(['clients', 'service', 'kafka', 'consumer']);
    expect(r.faults).toEqual([{ label: 'crash orders-kafka-1', fromMs: 15_000, toMs: 25_000 }]);
  }, 60_000);

  it('the least-request black hole: errors far above 1/N, until outlier detection ejects the backend', () => {
    const r = runScenario(blackHole, { seed: 1 });
    expect(r).toPassChecks();
    const [plain, ejected] = r.variants.map((v) => v.outcome);
    expect(plain!['users.run.errorRate'] as number).toBeGreaterThan(0.25);
    expect(ejected!.ejections).toBe(1);
    expect(ejected!['lb->bad.run.rate'] as number).toBeLessThan(1);
  }, 60_000);

  it('an origin crash behind a CDN: hits are served, misses fail; stale-if-error serves expired copies', () => {
    const r = runScenario(cdnCrash, { seed: 1 });
    expect(r).toPassChecks();
    const [plain, stale] = r.variants.map((v) => v.outcome);
    expect(r.topology?.nodes.map((n) => [n.name, n.kind, n.replicas])).toEqual([
      ['eu', 'clients', 1],
      ['us', 'clients', 1],
      ['cdn', 'cdn', 2],
      ['origin', 'service', 1],
    ]);
    // Plain: 30% of the US requests succeed while the origin is down (the objects still fresh), 79% with
    // stale-if-error (seed 1); the origin gets none.
    expect(plain!['us.during.availability'] as number).toBeLessThan(0.4);
    expect(stale!['us.during.availability'] as number).toBeGreaterThan(0.7);
    expect(plain!['cdn->origin.during.errorRate'] as number).toBe(1);
  }, 60_000);

  it('a whole system in one file: a tenant quota keeps the database under capacity while the cache is down', () => {
    const r = runScenario(fullSystem, { seed: 1 });
    expect(r).toPassChecks();
    const [quota, open] = r.variants.map((v) => v.outcome);
    expect(r.topology?.nodes.map((n) => [n.name, n.kind])).toEqual([
      ['partner', 'clients'],
      ['web', 'clients'],
      ['gateway', 'gateway'],
      ['lb', 'balancer'],
      ['orders', 'service'],
      ['catalog', 'service'],
      ['rabbit', 'amqp'],
      ['cache', 'cache'],
      ['db', 'database'],
      ['fulfilment', 'worker'],
    ]);
    // The partner offers 150/s against a bucket refilling 25/s: 1 - 25/150 of it is refused (429).
    const refused =
      (quota!['partner.before.errors.rejected'] as number) / (quota!['partner.before.requests'] as number);
    expect(refused).toBeCloseTo(1 - 25 / 150, 2);
    expect(quota!['web.during.availability']).toBe(1);
    // Without the quota the database saturates and the web tenant's reads time out at the gateway.
    expect(open!['web.during.errors.gateway-timeout'] as number).toBeGreaterThan(500);
    expect(open!['gateway.during.timedOut'] as number).toBeGreaterThan(100);
  }, 60_000);

  it('an HPA on a ramp: over-scales on the backlog, settles at ceil(load / (μ × target)) with a short window', () => {
    const r = runScenario(autoscaling, { seed: 1 });
    expect(r).toPassChecks();
    const [defaults, short] = r.variants.map((v) => v.outcome);
    expect(defaults!['app.steady.replicas'] as number).toBeGreaterThan(9);
    expect(short!['app.steady.replicas']).toBe(Math.ceil(100 / (20 * 0.6)));
    expect(short!['app.steady.maxReplicas']).toBe(9);
  }, 60_000);
});
