import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { poisonMessage } from '../src/catalogue/poison-message.js';
import { runScenario } from '../src/scenario.js';

const outcome = (r: ReturnType<typeof runScenario>, name: string) =>
  r.variants.find((v) => v.name === name)!.outcome;

describe('poison-message scenario', () => {
  it('in place blocks the partition; retry topics and the DLQ do not; quorum dead-letters after 21; classic loops', () => {
    const r = runScenario(poisonMessage, { seed: 1 });
    expect(r).toPassChecks();
    expect(outcome(r, 'kafka-in-place').blocked).toBe(949);
    expect(outcome(r, 'kafka-retry-topics')).toMatchObject({ blocked: 0, dlq: 1 });
    expect(outcome(r, 'rabbit-quorum')).toMatchObject({
      poisonAttempts: 21,
      dlq: 1,
      dlqReason: 'delivery_limit',
    });
    expect(outcome(r, 'rabbit-classic').dlq).toBe(0);
  }, 30_000);

  it('seed 2 passes the same checks', () => {
    const r = runScenario(poisonMessage, { seed: 2 });
    expect(r).toPassChecks();
  }, 30_000);

  it('a custom delivery limit of 2 allows 3 deliveries', () => {
    const r = runScenario(poisonMessage, {
      seed: 1,
      params: { deliveryLimit: 2, messages: 200 },
      variants: ['rabbit-quorum'],
    });
    expect(r).toPassChecks();
    expect(r.outcome.poisonAttempts).toBe(3);
  });

  it('names a bad parameter', () => {
    expect(() => runScenario(poisonMessage, { seed: 1, params: { delay1: 3 } as never })).toThrow(/delay1/);
  });
});
