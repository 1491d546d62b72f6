import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { meshOverhead } from '../src/catalogue/mesh-overhead.js';
import { runScenario } from '../src/scenario.js';

const outcome = (r: ReturnType<typeof runScenario>, name: string) =>
  r.variants.find((v) => v.name === name)!.outcome;

describe('mesh-overhead scenario', () => {
  it('defaults, seed 1: per-hop latency against Istio, CPU and memory against the presets, retries multiply', () => {
    const r = runScenario(meshOverhead, { seed: 1 });
    expect(r).toPassChecks();
    // No mesh: constant service times and links, 3 × (2 × 0.1 + 1) ms every time.
    expect(outcome(r, 'no-mesh').e2eP99Ms).toBeCloseTo(3.6, 2);
    // Istio 1.12.3: a hop adds 1.7 ms at p90 and 2.7 ms at p99 (both proxies).
    const v12 = outcome(r, 'istio-1.12.3');
    expect(Math.abs((v12.hopP90Ms as number) / 1.7 - 1)).toBeLessThan(0.05);
    expect(Math.abs((v12.hopP99Ms as number) / 2.7 - 1)).toBeLessThan(0.12);
    expect(Math.abs((outcome(r, 'istio-1.3.5').hopP90Ms as number) / 7 - 1)).toBeLessThan(0.05);
    // CPU per client request: passes per hop × CPU per pass × 3 hops, exactly.
    const cpu: Record<string, number> = {
      'istio-1.3.5': 2 * 0.6 * 3,
      'istio-1.12.3': 2 * 0.35 * 3,
      'istio-1.24-sidecar': 2 * 0.2 * 3,
      ambient: 2 * 0.06 * 3,
      'ambient-waypoint': (2 * 0.06 + 0.25) * 3,
    };
    for (const [name, perRequest] of Object.entries(cpu))
      expect(outcome(r, name).cpuPerRequestMs as number, name).toBeCloseTo(perRequest, 9);
    // Memory: 4 sidecars (client and 3 services) or 4 ztunnels, plus a waypoint per service.
    expect(outcome(r, 'istio-1.12.3').memoryMb).toBe(4 * 40);
    expect(outcome(r, 'istio-1.24-sidecar').memoryMb).toBe(4 * 60);
    expect(outcome(r, 'ambient').memoryMb).toBe(4 * 12);
    expect(outcome(r, 'ambient-waypoint').memoryMb).toBe(4 * 12 + 4 * 60);
    // One handshake per proxy-to-proxy leg, whatever the number of requests.
    expect(outcome(r, 'istio-1.12.3').handshakes).toBe(3);
    expect(outcome(r, 'ambient-waypoint').handshakes).toBe(6);
    // (1 + 3)(1 + 2) = 12 attempts per hop, 12^3 per request; the applications alone 4^3.
    expect(outcome(r, 'retry-amplification').attemptsPerRequest).toBe(1728);
    expect(outcome(r, 'retry-app-only').attemptsPerRequest).toBe(64);
  }, 60_000);

  it('other seeds: the Istio 1.12.3 checks hold on a shorter run', () => {
    for (const seed of [2, 3]) {
      const r = runScenario(meshOverhead, {
        seed,
        params: { seconds: 2 },
        variants: ['no-mesh', 'istio-1.12.3'],
      });
      expect(r, `seed ${seed}`).toPassChecks();
    }
  });

  it('the multiplication follows the parameters exactly', () => {
    for (const [params, perRequest] of [
      [{ hops: 2, appRetries: 3, meshRetries: 4 }, (4 * 5) ** 2],
      [{ hops: 1, appRetries: 0, meshRetries: 0 }, 1],
      [{ hops: 4, appRetries: 1, meshRetries: 1 }, (2 * 2) ** 4],
    ] as const) {
      const r = runScenario(meshOverhead, { seed: 1, params, variants: ['retry-amplification'] });
      expect(r, JSON.stringify(params)).toPassChecks();
      expect(r.outcome.attemptsPerRequest).toBe(perRequest);
    }
  });

  it('ambient without a waypoint has no mesh retries: the applications alone multiply', () => {
    const r = runScenario(meshOverhead, {
      seed: 1,
      params: { mesh: 'ambient', failLast: true, hops: 2 },
      variants: ['retry-amplification'],
    });
    expect(r).toPassChecks();
    expect(r.outcome.attemptsPerRequest).toBe(16);
  });

  it('a pass latency for the unpublished presets and a handshake CPU are accounted for', () => {
    const r = runScenario(meshOverhead, {
      seed: 1,
      params: { unpublishedLatencyMs: 0.5, handshakeCpuMs: 2, seconds: 1 },
      variants: ['no-mesh', 'istio-1.24-sidecar', 'ambient-waypoint'],
    });
    expect(r).toPassChecks();
    expect(outcome(r, 'istio-1.24-sidecar').hopP50Ms as number).toBeCloseTo(2 * (0.2 + 0.5), 2);
    expect(outcome(r, 'ambient-waypoint').hopP50Ms as number).toBeCloseTo(0.06 + 0.25 + 0.06 + 3 * 0.5, 2);
  });

  it('is deterministic and rejects bad parameters', () => {
    const small = { seed: 9, params: { seconds: 0.5 }, variants: ['istio-1.12.3', 'ambient'] };
    expect(runScenario(meshOverhead, small).digest).toBe(runScenario(meshOverhead, small).digest);
    expect(() => runScenario(meshOverhead, { params: { hops: 0 } })).toThrow(/hops/);
    expect(() => runScenario(meshOverhead, { params: { mesh: 'linkerd' } })).toThrow(/mesh/);
  });
});
