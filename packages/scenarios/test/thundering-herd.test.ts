import { describe, expect, it } from 'vitest';
import '../src/vitest.js';
import { expiryHerdPeak, fullJitterReconnectRate, thunderingHerd } from '../src/catalogue/thundering-herd.js';
import { runScenario, type ScenarioResult } from '../src/scenario.js';

// 500 keys read at 2500/s (r = 5 per key per second), TTL 10 s, jitter ±20%: a 4 s spread.
const short = { keys: 500, readRate: 2500, ttlMs: 10_000 };

const outcome = (r: ScenarioResult, name: string) => r.variants.find((v) => v.name === name)!.outcome;
const num = (r: ScenarioResult, name: string, field: string): number => outcome(r, name)[field] as number;

describe('thundering-herd', () => {
  it('theory: the expiry peak and the full-jitter reconnect rate', () => {
    const m = { keys: 1000, readRate: 5000, ttlMs: 30_000, jitter: 0 };
    expect(expiryHerdPeak(m, 1000)).toBeCloseTo(1000 * (1 - Math.exp(-5)), 6);
    expect(expiryHerdPeak({ ...m, jitter: 0.2 }, 1000)).toBeCloseTo(1000 / 12, 6);
    // A 1 ms bin cannot hold more than the synchronized herd does.
    expect(expiryHerdPeak({ ...m, jitter: 0.2 }, 1)).toBeLessThanOrEqual(expiryHerdPeak(m, 1));
    expect(fullJitterReconnectRate({ clients: 1000, timeoutMs: 1000, capMs: 3200 }, 100)).toBeCloseTo(
      100_000 / 2600,
      6,
    );
  });

  it.each([1, 2])('seed %i: every check holds; jitter spreads both herds as theory says', (seed) => {
    const r = runScenario(thunderingHerd, { seed, params: short });
    expect(r).toPassChecks();
    // Synchronized expiry: N(1 − e^(−r·1 s)) = 496.6 loads in the first second, one per key.
    expect(Math.abs(num(r, 'synchronized', 'herdFirstSecond') - 496.6)).toBeLessThan(15);
    expect(num(r, 'synchronized', 'herdLoads')).toBeGreaterThanOrEqual(500);
    expect(num(r, 'synchronized', 'herdLoads')).toBeLessThanOrEqual(510);
    // 500 loads in about a second against 800/s of database: a queue forms; spread over 4 s, none does.
    expect(num(r, 'synchronized', 'originPeakQueue')).toBeGreaterThan(50);
    expect(num(r, 'ttl-jitter', 'originPeakQueue')).toBeLessThanOrEqual(8);
    expect(num(r, 'synchronized', 'latencyP99')).toBeGreaterThan(10 * num(r, 'ttl-jitter', 'latencyP99'));
    // Jitter ±20% of 10 s: N / 4 s = 12.5 loads per 100 ms.
    expect(Math.abs(num(r, 'ttl-jitter', 'plateauPer100ms') - 12.5)).toBeLessThan(1.9);
    // Reconnects: all 1000 in one 100 ms bin without jitter (immediate, or backoff in lockstep);
    // full jitter: 1000 · 100 / (1000 + 3200/2) = 38.5 per 100 ms.
    expect(num(r, 'reconnect-immediate', 'peakPer100ms')).toBe(1000);
    expect(num(r, 'reconnect-backoff', 'peakPer100ms')).toBe(1000);
    expect(Math.abs(num(r, 'reconnect-backoff-jitter', 'plateauPer100ms') - 38.46)).toBeLessThan(5.8);
    expect(num(r, 'reconnect-backoff-jitter', 'peakPer100ms')).toBeLessThan(60);
    // The immediate herd queues M − workers at the server; the jittered one barely queues.
    expect(num(r, 'reconnect-immediate', 'originPeakQueue')).toBe(996);
    expect(num(r, 'reconnect-backoff-jitter', 'originPeakQueue')).toBeLessThanOrEqual(3);
    expect(num(r, 'reconnect-immediate', 'serverWaitP99')).toBeGreaterThan(400);
    expect(num(r, 'reconnect-backoff-jitter', 'serverWaitP99')).toBeLessThan(10);
  });

  it('the jittered density scales as 1/j: ±10% gives twice the plateau of ±20%', () => {
    const plateau = (jitter: number) =>
      runScenario(thunderingHerd, { seed: 3, params: { ...short, jitter }, variants: ['ttl-jitter'] }).outcome
        .plateauPer100ms as number;
    const ratio = plateau(0.1) / plateau(0.2);
    expect(ratio).toBeGreaterThan(1.7);
    expect(ratio).toBeLessThan(2.3);
  });

  it('negative control: with sparse reads the synchronized herd is not one second long', () => {
    // r = 0.5 per key per second: a key is reloaded only at its next read, so the first second holds
    // N(1 − e^(−0.5)) = 39% of the keys, not ≈ N: the "instant" of a herd is the gap between reads.
    const r = runScenario(thunderingHerd, {
      seed: 1,
      params: { ...short, readRate: 250 },
      variants: ['synchronized'],
    });
    expect(r).toPassChecks();
    const first = r.outcome.herdFirstSecond as number;
    expect(Math.abs(first - 500 * (1 - Math.exp(-0.5)))).toBeLessThan(25);
    expect(r.outcome.originPeakQueue as number).toBeLessThan(10);
  });

  it('is deterministic: same seed, same digest; another seed, another digest', () => {
    const run = (seed: number) =>
      runScenario(thunderingHerd, {
        seed,
        params: short,
        variants: ['ttl-jitter', 'reconnect-backoff-jitter'],
      });
    const a = run(7);
    expect(run(7).digest).toBe(a.digest);
    expect(run(8).digest).not.toBe(a.digest);
  });
});
