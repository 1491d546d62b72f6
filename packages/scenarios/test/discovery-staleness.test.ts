import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { discoveryStaleness } from '../src/catalogue/discovery-staleness.js';
import { runScenario } from '../src/scenario.js';

const outcome = (r: ReturnType<typeof runScenario>, name: string) =>
  r.variants.find((v) => v.name === name)!.outcome;

describe('discovery-staleness scenario', () => {
  it.each([
    [1, 10],
    [2, 5],
  ])('seed %i, %i requests/s: every variant against its timeline model and bounds', (seed, rate) => {
    const r = runScenario(discoveryStaleness, { seed, params: { rate } });
    expect(r).toPassChecks();
    const o = (name: string) => outcome(r, name);
    const stale = (name: string) => o(name).staleMs as number;
    // Eureka, real expiry: (150, 330] s; as documented: (60, 240] s; graceful: (0, 90] s.
    expect(stale('eureka-crash')).toBeGreaterThan(150_000);
    expect(stale('eureka-crash')).toBeLessThanOrEqual(330_000);
    expect(stale('eureka-crash-documented')).toBeGreaterThan(60_000);
    expect(stale('eureka-crash-documented')).toBeLessThanOrEqual(240_000);
    expect(stale('eureka-shutdown')).toBeLessThanOrEqual(90_000);
    // Same phases in every variant: the doubled lease costs one or two eviction runs (60 or 120 s).
    expect([60_000, 120_000]).toContain(Math.round(stale('eureka-crash') - stale('eureka-crash-documented')));
    // The graceful path skips the lease and the eviction: the registry drops it at once.
    expect(o('eureka-shutdown').registryMs).toBe(0);
    // Self-preservation: 5 of 20 dead are never evicted; a quarter of the requests after the fault fail.
    expect(o('eureka-mass-crash').staleMs).toBeNull();
    expect(o('eureka-mass-crash').selfPreservation).toBe(true);
    expect(o('eureka-mass-crash').evictions).toBe(0);
    // Kubernetes: readiness in (22, 32] s (3 probes of 10 s, timeout 1 s, 1 s propagation).
    expect(stale('k8s-crash')).toBeGreaterThan(22_000);
    expect(stale('k8s-crash')).toBeLessThanOrEqual(32_000);
    expect(stale('k8s-shutdown')).toBe(1000);
    expect(o('k8s-shutdown-prestop').failed).toBe(0);
    // DNS adds the client's cache on top of readiness: at most the TTL (5 s) or the JVM's 30 s plus a gap.
    expect(stale('dns-ttl')).toBeGreaterThan(22_000);
    expect(stale('dns-ttl') - stale('k8s-crash')).toBeLessThan(5000 + 3000);
    expect(stale('dns-jvm') - stale('k8s-crash')).toBeLessThan(30_000 + 3000);
    // Failures follow the windows: every 20th request in the window.
    expect(o('eureka-crash').failed as number).toBeGreaterThan(o('eureka-shutdown').failed as number);
    for (const v of r.variants) expect(v.outcome.failedAfterDrop).toBe(0);
  });

  it('across seeds the Eureka crash window spreads over its bounds around the theoretical mean of 240 s', () => {
    // With random phases each wait is uniform: 180 − U(0, 30) + U(0, 60) + 3 × U(0, 30) s, mean 240 s,
    // sd √600 ≈ 24.5 s; the mean of 10 seeds is within 4 × 7.7 s of 240 s. Under the documented expiry it
    // would centre on 150 s, which this check would catch.
    const windows: number[] = [];
    for (let seed = 1; seed <= 10; seed++) {
      const r = runScenario(discoveryStaleness, {
        seed,
        params: { rate: 1 },
        variants: ['eureka-crash', 'k8s-crash'],
      });
      expect(r).toPassChecks();
      windows.push(outcome(r, 'eureka-crash').staleMs as number);
      const k8s = outcome(r, 'k8s-crash').staleMs as number;
      expect(k8s).toBeGreaterThan(22_000);
      expect(k8s).toBeLessThanOrEqual(32_000);
    }
    for (const w of windows) {
      expect(w).toBeGreaterThan(150_000);
      expect(w).toBeLessThanOrEqual(330_000);
    }
    const mean = windows.reduce((a, b) => a + b, 0) / windows.length;
    expect(Math.abs(mean - 240_000)).toBeLessThan(4 * 7750);
    expect(new Set(windows).size).toBe(windows.length); // the phases do vary
  });

  it('a longer propagation than the preStop sleep lets requests be refused; same seed, same digest; bad input refused', () => {
    const params = { propagationMs: 4000, preStopSeconds: 1, rate: 50 };
    const a = runScenario(discoveryStaleness, { seed: 4, params, variants: ['k8s-shutdown-prestop'] });
    expect(a).toPassChecks();
    // Refused from SIGTERM (1 s) until kube-proxy drops the pod (4 s): 3 s × 50/s / 20 = 7.5 expected.
    expect(a.variants[0]!.outcome.failed as number).toBeGreaterThan(0);
    const b = runScenario(discoveryStaleness, { seed: 4, params, variants: ['k8s-shutdown-prestop'] });
    expect(a.digest).toBe(b.digest);
    expect(() =>
      runScenario(discoveryStaleness, { seed: 1, params: { instances: 3 }, variants: ['eureka-mass-crash'] }),
    ).toThrow(/crashed must be at most instances/);
    expect(() => runScenario(discoveryStaleness, { seed: 1, params: { faultAtSeconds: 10 } })).toThrow(
      /faultAtSeconds/,
    );
  });
});
