import { exponential, Network, RandomStream, Simulation, Tally } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { thrown } from '../../core/test/support/thrown.js';
import { defineSaga, type SagaStepSpec } from '../src/saga/saga-definition.js';
import { SagaLedger } from '../src/saga/saga-ledger.js';
import { SagaOrchestrator } from '../src/saga/saga-orchestrator.js';
import { sagaTheory } from '../src/saga/saga-theory.js';
import { chain, network, runOrchestrated, zScore } from './saga-support.js';

/** Standard errors allowed between a measured share and its theory. */
const Z = 4;

const comp = (name: string, participant = name): SagaStepSpec => ({
  name,
  participant,
  kind: 'compensable',
  latency: 1,
  compensation: { latency: 1 },
});

describe('defineSaga', () => {
  it('applies the defaults: idempotent, unlimited retries with Temporal’s backoff (1 s, 2 s, 4 s … 100 s)', () => {
    const saga = defineSaga({
      name: 'order',
      steps: [
        comp('a'),
        { name: 'b', participant: 'b', kind: 'pivot', latency: '5ms' },
        { name: 'c', participant: 'a', kind: 'retryable', latency: exponential({ mean: 3 }) },
      ],
    });
    expect(saga.pivot).toBe(1);
    expect(saga.decisive).toBe(2);
    expect(saga.participants).toEqual(['a', 'b']);
    const [a, b, c] = saga.steps;
    expect([a!.idempotent, b!.idempotent, c!.idempotent]).toEqual([true, true, true]);
    expect([a!.failureProbability, a!.compensation!.failureProbability]).toEqual([0, 0]);
    expect(b!.compensation).toBeNull();
    expect(b!.retry).toBeNull();
    expect(b!.latency.sample(new RandomStream('1', 'test'))).toBe(5);
    for (const retry of [c!.retry!, a!.compensation!.retry]) {
      expect(retry.maxAttempts).toBe(Infinity);
      const rng = new RandomStream('1', 'test');
      expect([1, 2, 3, 7, 8, 20].map((n) => retry.backoff.delay(n, rng))).toEqual([
        1000, 2000, 4000, 64_000, 100_000, 100_000,
      ]);
    }
    // No pivot: compensable steps, then retryable ones.
    const noPivot = defineSaga({
      name: 'x',
      steps: [comp('a'), { name: 'r', participant: 'r', kind: 'retryable', latency: 1 }],
    });
    expect([noPivot.pivot, noPivot.decisive]).toEqual([-1, 1]);
  });

  it('refuses a saga whose shape breaks the pattern, naming the field, the value and what is allowed', () => {
    const pivot = (name: string): SagaStepSpec => ({ name, participant: name, kind: 'pivot', latency: 1 });
    const retryable = (name: string): SagaStepSpec => ({
      name,
      participant: name,
      kind: 'retryable',
      latency: 1,
    });
    const msg = (steps: SagaStepSpec[]) => thrown(() => defineSaga({ name: 's', steps })).message;
    expect(msg([pivot('a'), pivot('b')])).toContain(
      'steps[1].kind must be "retryable": a saga has at most one pivot',
    );
    expect(msg([pivot('a'), comp('b')])).toContain('a compensable step must come before the pivot');
    expect(msg([retryable('a'), comp('b')])).toContain(
      'a compensable step must come before every retryable step',
    );
    expect(msg([retryable('a'), pivot('b')])).toContain('the pivot must come before every retryable step');
    expect(msg([comp('a'), comp('a')])).toContain('steps[1].name must be a name not used by another step');
    expect(msg([{ ...comp('a'), name: 'a.b' }])).toContain('steps[0].name must be letters, digits');
    expect(msg([{ ...comp('a'), compensation: undefined } as never])).toContain(
      'steps[0].compensation must be an object',
    );
    expect(msg([{ ...pivot('a'), compensation: { latency: 1 } }])).toContain(
      'steps[0].compensation must be left out: a pivot step has no compensating transaction',
    );
    expect(msg([{ ...comp('a'), retry: { maxAttempts: 3 } }])).toContain('steps[0].retry must be left out');
    expect(msg([{ ...retryable('a'), idempotent: false }])).toContain(
      'steps[0].idempotent must be true: retryable steps must be idempotent',
    );
    expect(msg([{ ...retryable('a'), failureProbability: 1 }])).toContain('it would never succeed');
    expect(msg([{ ...comp('a'), compensation: { latency: 1, failureProbability: 1 } }])).toContain(
      'steps[0].compensation.failureProbability must be a probability below 1',
    );
    expect(msg([{ ...comp('a'), failureProbability: 1.5 }])).toContain(
      'steps[0].failureProbability must be a probability in [0, 1], got 1.5',
    );
    expect(msg([{ ...comp('a'), kind: 'compensatable' as never }])).toContain(
      '(did you mean "compensable"?)',
    );
    expect(msg([{ ...comp('a'), latncy: 1 } as never])).toContain('unknown option "steps[0].latncy"');
    expect(msg([{ ...comp('a'), compensation: { latency: 1, retry: { maxAttempts: 0 } } }])).toContain(
      'steps[0].compensation.retry.maxAttempts must be an integer >= 1 or Infinity, got 0',
    );
    expect(
      msg([
        { ...comp('a'), compensation: { latency: 1, retry: { backoff: { kind: 'fixed', delayMs: -1 } } } },
      ]),
    ).toContain('steps[0].compensation.retry.backoff.delayMs');
    expect(msg([])).toContain('steps must be an array of 1 to 1000 steps');
    // A g = 1 compensation is allowed when it is retried a bounded number of times: it just gets stuck.
    expect(() =>
      defineSaga({
        name: 's',
        steps: [
          comp('a'),
          { ...comp('b'), compensation: { latency: 1, failureProbability: 1, retry: { maxAttempts: 2 } } },
        ],
      }),
    ).not.toThrow();
  });
});

describe('sagaTheory', () => {
  it('computes P(fail at k), P(completed), P(stuck) and the compensations by hand', () => {
    // Three compensable steps (f = 0.1, 0.2, 0.3), single-attempt compensations with g = 0.25, then a pivot (f 0.5).
    const g = 0.25;
    const saga = defineSaga({
      name: 's',
      steps: [0.1, 0.2, 0.3]
        .map(
          (f, i): SagaStepSpec => ({
            name: `c${i}`,
            participant: 'p',
            kind: 'compensable',
            latency: 1,
            failureProbability: f,
            compensation: { latency: 1, failureProbability: g, retry: { maxAttempts: 1 } },
          }),
        )
        .concat([{ name: 'pv', participant: 'p', kind: 'pivot', latency: 1, failureProbability: 0.5 }]),
    });
    const t = sagaTheory(saga);
    const pFail = [0.1, 0.9 * 0.2, 0.9 * 0.8 * 0.3, 0.9 * 0.8 * 0.7 * 0.5];
    for (const [k, p] of t.pFailAt.entries()) expect(p).toBeCloseTo(pFail[k]!, 12);
    expect(t.pCompleted).toBeCloseTo(0.9 * 0.8 * 0.7 * 0.5, 12);
    // The brief's formula, 1-based k: P(stuck) = Σ_k P(fail at k) (1 − (1 − g)^(k − 1)).
    const stuck = pFail.reduce((s, p, k) => s + p * (1 - (1 - g) ** k), 0);
    expect(t.pStuck).toBeCloseTo(stuck, 12);
    expect(t.pCompleted + t.pCompensated + t.pStuck).toBeCloseTo(1, 12);
    // Committed compensations after a failure at k: k − 1 (1-based) when g = 0; with g they stop early.
    expect(t.compensationsGivenFailAt[3]).toBeCloseTo(0.75 + 0.75 ** 2 + 0.75 ** 3, 12);
    const g0 = sagaTheory(
      defineSaga({
        name: 's',
        steps: [comp('a'), comp('b'), comp('c'), { ...comp('d'), failureProbability: 0.5 }],
      }),
    );
    expect(g0.compensationsGivenFailAt).toEqual([0, 1, 2, 3]);
    expect(g0.pStuck).toBe(0);
    // Messages: a completed saga of n steps costs 2n orchestration messages, n + 1 choreography events.
    expect(g0.orchestrationMessages).toBeCloseTo(2 * (4 + 0.5 * 3), 12);
    expect(g0.choreographyEvents).toBeCloseTo(1 + 4 + 0.5 * 3, 12);
  });

  it('counts retryable attempts as a truncated geometric law and their exhaustion as stuck', () => {
    const saga = defineSaga({
      name: 's',
      steps: [
        { name: 'pv', participant: 'p', kind: 'pivot', latency: 1, failureProbability: 0.2 },
        {
          name: 'r',
          participant: 'p',
          kind: 'retryable',
          latency: 1,
          failureProbability: 0.5,
          retry: { maxAttempts: 3 },
        },
      ],
    });
    const t = sagaTheory(saga);
    expect(t.pCompleted).toBeCloseTo(0.8 * (1 - 0.125), 12);
    expect(t.pStuckForward).toBeCloseTo(0.8 * 0.125, 12);
    expect(t.stepAttempts).toBeCloseTo(1 + 0.8 * (1 + 0.5 + 0.25), 12);
  });
});

describe('SagaOrchestrator', () => {
  it.each([
    1, 2, 3,
  ])('seed %i: success, failure at each step and compensations match the formulas', (seed) => {
    const saga = chain({ compensable: 4, pivot: true, retryable: 1, f: 0.08, fRetry: 0.3 });
    const t = sagaTheory(saga);
    const n = 4000;
    const { ledger, orchestrator } = runOrchestrated(seed, saga, n);
    const audit = ledger.audit();
    expect(audit.violations).toEqual([]);
    expect(audit.conserved).toBe(true);
    expect(audit.running).toBe(0);
    expect(zScore(audit.completed, n, t.pCompleted)).toBeLessThan(Z);
    expect(audit.stuck).toBe(0);
    // Failure at each decisive step k (0-based) against f (1 − f)^k, and exactly k compensations, in reverse.
    const failedAt = new Array<number>(saga.steps.length).fill(0);
    for (const r of ledger.all) {
      if (r.outcome !== 'compensated') continue;
      failedAt[r.failedStep]!++;
      expect(r.compensationsRun).toBe(r.failedStep);
      expect(r.compensationOrder).toEqual([...Array(r.failedStep).keys()].reverse());
    }
    for (let k = 0; k < saga.decisive; k++) expect(zScore(failedAt[k]!, n, t.pFailAt[k]!)).toBeLessThan(Z);
    // Nothing lost, nothing retried on the wire: 2 messages per command, as the theory counts them.
    const messages = ledger.all.reduce((s, r) => s + r.messages, 0);
    expect(orchestrator!.stats.resent).toBe(0);
    expect(messages).toBe(2 * orchestrator!.stats.commands);
    const perSaga = new Tally();
    for (const r of ledger.all) perSaga.add(r.messages);
    expect(Math.abs(perSaga.mean - t.orchestrationMessages)).toBeLessThan(
      (Z * perSaga.stdDev) / Math.sqrt(n),
    );
    // The check would fail on a wrong model: forgetting the pivot's failure, or failing at retryables.
    const wrongNoPivot = (1 - 0.08) ** 4;
    const wrongRetryFails = t.pCompleted * 0.7;
    expect(zScore(audit.completed, n, wrongNoPivot)).toBeGreaterThan(Z);
    expect(zScore(audit.completed, n, wrongRetryFails)).toBeGreaterThan(Z);
  });

  it('stuck probability with compensation failure g follows Σ P(fail at k)(1 − (1 − g^a)^(k − 1))', () => {
    for (const [seed, attempts] of [
      [1, 1],
      [2, 1],
      [3, 2],
    ] as const) {
      const g = 0.3;
      const saga = chain({ compensable: 4, pivot: true, f: 0.15, g, compensationAttempts: attempts });
      const t = sagaTheory(saga);
      const h = g ** attempts;
      const formula = t.pFailAt.reduce((s, p, k) => s + p * (1 - (1 - h) ** k), 0);
      expect(t.pStuck).toBeCloseTo(formula, 12);
      const n = 4000;
      const { ledger } = runOrchestrated(seed, saga, n);
      const audit = ledger.audit();
      expect(audit.violations).toEqual([]);
      expect(zScore(audit.stuck, n, t.pStuck)).toBeLessThan(Z);
      expect(zScore(audit.compensated, n, t.pCompensated)).toBeLessThan(Z);
      // A stuck saga stopped at the compensation that failed for good: the ones after it never ran.
      for (const r of ledger.all) {
        if (r.outcome !== 'stuck') continue;
        expect(r.compensationFailures[r.stuckStep]).toBe(attempts);
        expect(r.compensationOrder).toEqual(
          [...Array(r.failedStep).keys()].reverse().filter((j) => j > r.stuckStep),
        );
      }
      // Without the retries (a = 1 when it is 2) the prediction fails the same check.
      if (attempts === 2) {
        const once = t.pFailAt.reduce((s, p, k) => s + p * (1 - (1 - g) ** k), 0);
        expect(zScore(audit.stuck, n, once)).toBeGreaterThan(Z);
      }
      const comps = new Tally();
      for (const r of ledger.all) comps.add(r.compensationsRun);
      expect(Math.abs(comps.mean - t.compensationsPerSaga)).toBeLessThan((Z * comps.stdDev) / Math.sqrt(n));
    }
  });

  it('pivot semantics: after the pivot, failures are retried forward and nothing is compensated', () => {
    const saga = chain({ compensable: 2, pivot: true, retryable: 2, f: 0.1, fRetry: 0.6 });
    const t = sagaTheory(saga);
    const n = 3000;
    const { ledger, orchestrator } = runOrchestrated(4, saga, n);
    const audit = ledger.audit();
    expect(audit.violations).toEqual([]);
    expect(zScore(audit.completed, n, t.pCompleted)).toBeLessThan(Z);
    let passed = 0;
    let retryFailures = 0;
    for (const r of ledger.all) {
      if (r.applied[saga.pivot] === 0) continue;
      passed++;
      expect(r.outcome).toBe('completed');
      expect(r.compensationsRun).toBe(0);
      expect([...r.compensated]).toEqual([0, 0, 0, 0, 0]);
      retryFailures += r.failures[3]! + r.failures[4]!;
    }
    expect(passed).toBe(audit.completed);
    // Failed attempts per retryable step: geometric, mean f / (1 − f) = 1.5, sd √f / (1 − f).
    const se = Math.sqrt(0.6) / 0.4 / Math.sqrt(2 * passed);
    expect(Math.abs(retryFailures / passed / 2 - 1.5)).toBeLessThan(Z * se);
    expect(orchestrator!.stats.retries).toBe(retryFailures);
    // With a limit, a retryable step that runs out leaves the saga stuck, never compensated.
    const limited = chain({ compensable: 1, pivot: true, retryable: 1, f: 0, fRetry: 0.5, retryAttempts: 2 });
    const r2 = runOrchestrated(5, limited, 2000).ledger;
    const a2 = r2.audit();
    expect(zScore(a2.stuck, 2000, 0.25)).toBeLessThan(Z);
    expect(a2.compensated).toBe(0);
    for (const r of r2.all)
      if (r.outcome === 'stuck') expect([r.stuckStep, r.compensationsRun]).toEqual([2, 0]);
  });

  it('duplicates from command timeouts: idempotent steps absorb them, non-idempotent ones apply twice', () => {
    // Steps take exponential(5) ms and the orchestrator waits 8 ms: many commands are resent while the first
    // copy still runs, or after it committed.
    const run = (idempotent: boolean) => {
      const saga = chain({ compensable: 3, pivot: true, f: 0.1, idempotent });
      const n = 3000;
      const rig = runOrchestrated(6, saga, n, {
        commandTimeout: 8,
        redelivery: { backoff: { kind: 'none' } },
      });
      return { saga, n, audit: rig.ledger.audit(), stats: rig.orchestrator!.stats, t: sagaTheory(saga) };
    };
    const idem = run(true);
    expect(idem.stats.resent).toBeGreaterThan(1000);
    expect(idem.audit.absorbed).toBeGreaterThan(1000);
    expect(idem.audit.violations).toEqual([]);
    expect(idem.audit.idempotencyViolations).toBe(0);
    expect(idem.audit.leaked).toBe(0);
    // Outcomes are those of a run without duplicates.
    expect(zScore(idem.audit.completed, idem.n, idem.t.pCompleted)).toBeLessThan(Z);
    const non = run(false);
    expect(non.audit.doubleApplied).toBeGreaterThan(500);
    expect(non.audit.absorbed).toBe(0);
    // A re-run can fail where the first run committed: the saga is rolled back with that effect left in place.
    expect(non.audit.leaked).toBeGreaterThan(0);
    expect(non.audit.conserved).toBe(true);
  });

  it.each([1, 2, 3, 4])('seed %i: conservation with participant and orchestrator crashes', (seed) => {
    const saga = chain({
      compensable: 3,
      pivot: true,
      retryable: 1,
      f: 0.1,
      fRetry: 0.3,
      g: 0.2,
      compensationAttempts: 2,
    });
    const t = sagaTheory(saga);
    const n = 2000;
    const faults = [
      { at: 2000, for: 1500, fault: { kind: 'crash' as const, node: 'p1' } },
      { at: 5000, for: 800, fault: { kind: 'crash' as const, node: 'orch' } },
      { at: 9000, for: 2000, fault: { kind: 'crash' as const, node: 'p3' } },
      { at: 11_000, for: 500, fault: { kind: 'crash' as const, node: 'p0' } },
    ];
    const { ledger, orchestrator } = runOrchestrated(seed, saga, n, {
      commandTimeout: 50,
      redelivery: { backoff: { kind: 'fixed', delayMs: 100 } },
      faults,
    });
    const audit = ledger.audit();
    const refused = orchestrator!.stats.refused;
    expect(refused).toBeGreaterThan(100); // started while the orchestrator was down
    expect(audit.started + refused).toBe(n);
    expect(audit.violations).toEqual([]);
    expect(audit.conserved).toBe(true);
    expect(audit.running).toBe(0);
    expect(audit.completed + audit.compensated + audit.stuck).toBe(audit.started);
    expect(orchestrator!.stats.resumed).toBeGreaterThan(0);
    expect(orchestrator!.stats.resent).toBeGreaterThan(0);
    // Crashes delay sagas but do not change how they end.
    expect(zScore(audit.completed, audit.started, t.pCompleted)).toBeLessThan(Z);
    expect(zScore(audit.stuck, audit.started, t.pStuck)).toBeLessThan(Z);
  });

  it('ledger.onEnd: each saga reported once as it ends, with its outcome, in end order', () => {
    const saga = chain({ compensable: 2, pivot: true, retryable: 0, f: 0.2, fRetry: 0 });
    const { sim, net } = network(4, saga, 1, ['orch']);
    const orchestrator = new SagaOrchestrator(net.node('orch'), { saga, commandTimeout: 1000 });
    const seen: { id: number; outcome: string; at: number }[] = [];
    orchestrator.ledger.onEnd((r) => seen.push({ id: r.id, outcome: r.outcome, at: sim.now }));
    for (let i = 0; i < 200; i++) sim.scheduleAt(i * 5, () => orchestrator.start());
    sim.run();
    const records = orchestrator.ledger.all;
    expect(seen.map((s) => s.id).sort((a, b) => a - b)).toEqual(records.map((r) => r.id));
    for (const s of seen) {
      const r = records.find((x) => x.id === s.id)!;
      expect(s.outcome).toBe(r.outcome);
      expect(s.at).toBe(r.endedAt);
    }
    expect(seen.some((s) => s.outcome === 'compensated')).toBe(true);
    expect(seen.map((s) => s.at)).toEqual([...seen.map((s) => s.at)].sort((a, b) => a - b));
    expect(() => orchestrator.ledger.onEnd(42 as never)).toThrow(/listener.*a function/);
  });

  it('checks its options', () => {
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim);
    const saga = chain({ compensable: 1 });
    net.addNode('p0');
    const node = net.addNode('orch');
    const make = (o: object) =>
      thrown(() => new SagaOrchestrator(node, { saga, commandTimeout: 100, ...o } as never));
    expect(thrown(() => new SagaOrchestrator(node, { saga } as never)).message).toContain(
      'SagaOrchestrator: commandTimeout must be a duration > 0 (required)',
    );
    expect(make({ sga: 1 }).message).toContain('unknown option "sga" (did you mean "saga"?)');
    expect(make({ saga: { name: 'x', steps: [] } }).message).toContain(
      'saga must be a saga built by defineSaga',
    );
    expect(make({ redelivery: { maxAttempts: 3 } }).message).toContain(
      'redelivery.maxAttempts must be Infinity',
    );
    expect(make({ redelivery: { backoff: { kind: 'fixd' } } }).message).toContain('did you mean "fixed"');
    expect(make({ ledger: new SagaLedger(chain({ compensable: 2 })) }).message).toContain(
      'ledger must be a SagaLedger of the same saga',
    );
    expect(thrown(() => new SagaOrchestrator(net.node('p0'), { saga, commandTimeout: 1 })).message).toContain(
      'participants on other nodes',
    );
    expect(
      () =>
        new SagaOrchestrator(net.addNode('o2'), {
          saga: chain({ compensable: 1, pivot: true }),
          commandTimeout: 1,
        }),
    ).toThrow(/one of the network's nodes/);
  });
});
