import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { goodputCollapse, mm1kDeadlineGoodput } from '../src/catalogue/goodput-collapse.js';
import { runScenario } from '../src/scenario.js';

type Figures = Record<string, number>;

function byVariant(seed: number, params: Record<string, unknown> = {}, variants?: string[]) {
  const r = runScenario(goodputCollapse, { seed, params, ...(variants ? { variants } : {}) });
  const by = Object.fromEntries(r.variants.map((v) => [v.name, v.outcome as Figures]));
  return { r, by };
}

describe('goodput-collapse scenario', () => {
  it.each([1, 2])('seed %i: fifo is busy but useless; every queue policy keeps goodput', (seed) => {
    const { r, by } = byVariant(seed);
    expect(r).toPassChecks();
    const fifo = by.fifo!;
    // Throughput ≈ mu (the server never idles), goodput exactly 0: every answer arrives after its timeout.
    expect(fifo.utilizationDuring).toBeGreaterThan(0.999);
    expect(Math.abs(fifo.throughputDuring! - 100)).toBeLessThan(8);
    expect(fifo.goodputDuring).toBe(0);
    expect(fifo.wastedShareDuring).toBe(1);
    // The stale backlog B drains at mu - lambda_base = 50/s: recovery (B - muT)/50 s after the peak.
    expect(fifo.backlogAtPeakEnd).toBeGreaterThan(1200);
    expect(Math.abs(fifo.recoveryMs! - fifo.theoryRecoveryMs!)).toBeLessThan(3000);
    // Same arrivals and the same service-time stream: all variants but CoDel keep the server equally busy
    // (CoDel sheds at dequeue, so the queue sometimes empties and the worker idles).
    for (const [name, v] of Object.entries(by))
      if (name !== 'codel')
        expect(Math.abs(v.throughputDuring! / fifo.throughputDuring! - 1)).toBeLessThan(0.01);
    // CoDel: a short standing queue, nothing late, goodput near mu.
    const codel = by.codel!;
    expect(codel.wastedShareDuring).toBe(0);
    expect(codel.maxQueue!).toBeLessThan(100);
    expect(codel.goodputDuring!).toBeGreaterThan(90);
    expect(codel.okP99DuringMs!).toBeLessThan(500);
    // Adaptive LIFO under a standing queue behaves as LIFO.
    expect(by['adaptive-lifo']!.goodputDuring!).toBeGreaterThan(90);
    // Bounded queue, K = mu T / 2 = 50: the queue never exceeds K, answers stay under T.
    const bounded = by['bounded-queue']!;
    expect(bounded.queueSlots).toBe(50);
    expect(bounded.maxQueue).toBe(50);
    expect(bounded.okP99DuringMs).toBeLessThan(1000);
    expect(bounded.goodputDuring).toBeGreaterThan(90);
    // LIFO serves the newest first: fast answers, but the buried requests are served late after the peak.
    expect(by.lifo!.okP99DuringMs).toBeLessThan(500);
    expect(by.lifo!.wastedShareTotal).toBeGreaterThan(0.1);
    // Drop-expired serves the oldest request still alive: answers arrive just before the deadline and a
    // share 1 - mu/lambda = 1/3 of the served ones arrive just after it.
    const de = by['drop-expired']!;
    expect(de.okP99DuringMs).toBeGreaterThan(990);
    expect(Math.abs(de.wastedShareDuring! - 1 / 3)).toBeLessThan(0.08);
    // Queue timeout at T/2 leaves the served request half a timeout of slack: nothing is late.
    expect(by['queue-timeout']!.wastedShareDuring).toBe(0);
    expect(by['queue-timeout']!.okP99DuringMs).toBeLessThan(600);
  });

  it('M/M/1/K with a deadline: known limits of the formula', () => {
    // No timeout to speak of: goodput = throughput = lambda (1 - P_N); K = 1, rho = 1: P_N = 1/3.
    const t = mm1kDeadlineGoodput(100, 100, 1, 1000);
    expect(t.blocking).toBeCloseTo(1 / 3, 12);
    expect(t.goodput).toBeCloseTo(t.throughput, 9);
    // K = 0 (M/M/1/1): blocking rho/(1 + rho), an admitted request is answered in time iff S <= T.
    const z = mm1kDeadlineGoodput(150, 100, 0, 0.01);
    expect(z.blocking).toBeCloseTo(1.5 / 2.5, 12);
    expect(z.goodput).toBeCloseTo((150 / 2.5) * (1 - Math.exp(-1)), 9);
    // Large K at rho 1.5 does not overflow, and blocking tends to 1 - 1/rho.
    expect(mm1kDeadlineGoodput(150, 100, 5000, 1000).blocking).toBeCloseTo(1 / 3, 9);
    // Sizing K by Little's law: K = mu T / 2 answers nearly all in time, K = mu T about half, 1.2 mu T few.
    expect(mm1kDeadlineGoodput(150, 100, 50, 1).goodput).toBeGreaterThan(99.9);
    expect(mm1kDeadlineGoodput(150, 100, 100, 1).goodput).toBeCloseTo(55.04, 1);
    expect(mm1kDeadlineGoodput(150, 100, 120, 1).goodput).toBeLessThan(5);
  });

  it('a bounded queue sized mu T or more is too long for the timeout: goodput follows M/M/1/K, not mu', () => {
    for (const seed of [1, 2]) {
      const half = runScenario(goodputCollapse, {
        seed,
        params: { boundedShare: 1, peakSeconds: 120, afterSeconds: 5 },
        variants: ['bounded-queue'],
      });
      const o = half.outcome as Figures;
      expect(Math.abs(o.goodputDuring! - o.theoryGoodputDuring!) / o.theoryGoodputDuring!).toBeLessThan(0.25);
      const failed = half.checks.filter((c) => !c.pass).map((c) => c.name);
      expect(failed).toEqual(['bounded-queue: goodput during the overload stays near min(λ, μ) (>= 90%)']);
      const long = runScenario(goodputCollapse, {
        seed,
        params: { boundedShare: 1.2, afterSeconds: 5 },
        variants: ['bounded-queue'],
      });
      expect(long.outcome.goodputDuring as number).toBeLessThan(10);
    }
  });

  it('drop-expired goodput is mu^2 / lambda: it falls as the overload grows', () => {
    const r = runScenario(goodputCollapse, {
      seed: 3,
      params: { peakLambda: 300, peakSeconds: 60, afterSeconds: 5 },
      variants: ['drop-expired', 'queue-timeout'],
    });
    expect(r).toPassChecks();
    const [de, qt] = r.variants as [(typeof r.variants)[0], (typeof r.variants)[0]];
    expect(de.outcome.theoryGoodputDuring).toBeCloseTo(100 / 3, 6);
    expect(Math.abs((de.outcome.goodputDuring as number) - 100 / 3)).toBeLessThan(5);
    expect(qt.outcome.goodputDuring as number).toBeGreaterThan(90);
  });

  it('queue-timeout: goodput mu (1 - e^(-mu D)(1 - mu/lambda)) for a margin D = T - queue timeout', () => {
    const r = runScenario(goodputCollapse, {
      seed: 2,
      params: { queueTimeoutShare: 0.97, peakSeconds: 60, afterSeconds: 5 },
      variants: ['queue-timeout'],
    });
    expect(r).toPassChecks();
    const theory = 100 * (1 - Math.exp(-3) * (1 - 100 / 150));
    expect(r.outcome.theoryGoodputDuring).toBeCloseTo(theory, 6);
    expect(Math.abs((r.outcome.goodputDuring as number) - theory)).toBeLessThan(4);
    expect(r.outcome.wastedShareDuring as number).toBeGreaterThan(0);
  });

  it('negative control: without overload (lambda < mu) fifo keeps its goodput', () => {
    const r = runScenario(goodputCollapse, {
      seed: 4,
      params: { peakLambda: 80, afterSeconds: 5 },
      variants: ['fifo'],
    });
    expect(r).toPassChecks();
    expect(Math.abs((r.outcome.goodputDuring as number) - 80)).toBeLessThan(8);
    expect(r.outcome.recoveryMs).toBe(0);
    expect(r.outcome.wastedShareDuring).toBe(0);
  });

  it('is deterministic: same seed, same result; another seed, another run', () => {
    const run = (seed: number) =>
      runScenario(goodputCollapse, {
        seed,
        params: { peakSeconds: 10, afterSeconds: 5 },
        variants: ['fifo', 'lifo'],
      });
    const a = run(7);
    const b = run(7);
    expect(b.digest).toBe(a.digest);
    expect(b.variants.map((v) => v.outcome)).toEqual(a.variants.map((v) => v.outcome));
    expect(run(8).digest).not.toBe(a.digest);
  });

  it('rejects bad parameters with the field name', () => {
    expect(() => runScenario(goodputCollapse, { seed: 1, params: { queueTimeoutShare: 1.5 } })).toThrow(
      /queueTimeoutShare/,
    );
    expect(() => runScenario(goodputCollapse, { seed: 1, params: { peakSeconds: 5 } })).toThrow(
      /peakSeconds/,
    );
  });
});
