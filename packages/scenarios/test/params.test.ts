import { DsimError } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { defineScenario, mmc, param, parseAssignments, resolveParams, runScenario } from '../src/index.js';

function configError(fn: () => unknown): DsimError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DsimError);
    expect((error as DsimError).code).toBe('CONFIG_ERROR');
    return error as DsimError;
  }
  throw new Error('expected a CONFIG_ERROR');
}

describe('parameters', () => {
  it('fill defaults and keep given values', () => {
    const p = resolveParams(mmc.params, { servers: 2 }, 'mmc');
    expect(p).toEqual({ lambda: 4, mu: 1, servers: 2, customers: 200_000, service: 'exp' });
  });

  it('reject unknown names, listing the known ones', () => {
    const e = configError(() => resolveParams(mmc.params, { lamda: 3 }, 'mmc'));
    expect(e.message).toContain('"lamda"');
    expect(e.message).toContain('lambda, mu, servers, customers, service');
  });

  it('reject out-of-range values, naming the field, the value and what is allowed', () => {
    expect(configError(() => resolveParams(mmc.params, { servers: 0 }, 'mmc')).message).toBe(
      'parameter servers must be an integer >= 1 and <= 10000, got 0',
    );
    expect(configError(() => resolveParams(mmc.params, { servers: 1.5 }, 'mmc')).message).toContain(
      'servers',
    );
    expect(configError(() => resolveParams(mmc.params, { lambda: 0 }, 'mmc')).message).toBe(
      'parameter lambda must be a finite number > 0 and <= 1000000, got 0',
    );
    expect(configError(() => resolveParams(mmc.params, { lambda: Number.NaN }, 'mmc')).message).toContain(
      'NaN',
    );
    expect(configError(() => resolveParams(mmc.params, { service: 'gamma' }, 'mmc')).message).toBe(
      'parameter service must be one of "exp", "const", got "gamma"',
    );
  });

  it('parse --set assignments by type', () => {
    expect(parseAssignments(['lambda=2.5', 'servers=3', 'service=const'], mmc.params, 'mmc')).toEqual({
      lambda: 2.5,
      servers: 3,
      service: 'const',
    });
    expect(configError(() => parseAssignments(['lambda=fast'], mmc.params, 'mmc')).message).toContain(
      '"fast"',
    );
    expect(configError(() => parseAssignments(['lambda'], mmc.params, 'mmc')).message).toContain('key=value');
    expect(configError(() => parseAssignments(['x=1'], mmc.params, 'mmc')).message).toContain('"x"');
    expect(configError(() => parseAssignments(['servers='], mmc.params, 'mmc')).message).toContain('servers');
  });

  it('booleans, durations and strings', () => {
    const schema = {
      on: param.boolean({ default: false, description: 'switch' }),
      wait: param.duration({ default: '5s', description: 'delay' }),
      label: param.string({ default: 'x', description: 'label' }),
    };
    expect(resolveParams(schema, {}, 's')).toEqual({ on: false, wait: 5000, label: 'x' });
    expect(parseAssignments(['on=yes', 'wait=250ms', 'label=abc'], schema, 's')).toEqual({
      on: true,
      wait: 250,
      label: 'abc',
    });
    expect(parseAssignments(['wait=40'], schema, 's')).toEqual({ wait: 40 });
    expect(configError(() => parseAssignments(['on=maybe'], schema, 's')).message).toContain('true or false');
    expect(configError(() => parseAssignments(['wait=5 minutes'], schema, 's')).message).toContain(
      '"5 minutes"',
    );
  });

  it('reject a bad default when the scenario is declared', () => {
    expect(() => param.integer({ default: 0, min: 1, description: 'x' })).toThrow(DsimError);
    expect(() => param.enum(['a', 'b'], { default: 'c' as 'a', description: 'x' })).toThrow(DsimError);
  });
});

describe('defineScenario / runScenario', () => {
  const coin = defineScenario({
    name: 'coin-flips',
    description: 'Counts heads',
    params: { flips: param.integer({ default: 1000, min: 1, description: 'flips' }) },
    variants: [{ name: 'few', params: { flips: 10 } }, { name: 'many' }],
    run({ sim, params, check }) {
      const rng = sim.rng('coin');
      let heads = 0;
      for (let i = 0; i < params.flips; i++) if (rng.next() < 0.5) heads++;
      check('some heads', heads > 0, `${heads}`);
      return { heads, flips: params.flips };
    },
  });

  it('validate names and variants', () => {
    expect(() => defineScenario({ ...coin, name: 'Coin Flips' })).toThrow(/lowercase/);
    expect(() => defineScenario({ ...coin, variants: [{ name: 'a' }, { name: 'a' }] })).toThrow(
      /duplicate variant a/,
    );
  });

  it('run every variant with the same seed and prefix checks with the variant', () => {
    const r = runScenario(coin, { seed: 'abc' });
    expect(r.variants.map((v) => [v.name, v.outcome.flips])).toEqual([
      ['few', 10],
      ['many', 1000],
    ]);
    expect(r.outcome).toEqual(r.variants[0]!.outcome);
    expect(r.checks.map((c) => c.name)).toEqual(['few: some heads', 'many: some heads']);
    expect(r.seed).toBe('abc');
  });

  it('user params override variant params; unknown variants are a CONFIG_ERROR', () => {
    const r = runScenario(coin, { seed: 1, params: { flips: 7 } });
    expect(r.variants.map((v) => v.outcome.flips)).toEqual([7, 7]);
    expect(configError(() => runScenario(coin, { seed: 1, variants: ['nope'] })).message).toContain(
      'known variants: few, many',
    );
  });

  it('choose and record a seed when none is given', () => {
    const r = runScenario(coin, { variants: ['few'] });
    expect(r.seed).toMatch(/^\d+$/);
    const again = runScenario(coin, { variants: ['few'], seed: r.seed });
    expect(again.digest).toBe(r.digest);
  });

  it('errors inside a run carry the seed and a reproduce line', () => {
    const broken = defineScenario({
      name: 'broken',
      description: 'throws in a process',
      params: {},
      run({ sim }) {
        sim.process(function* boom() {
          yield sim.timeout(5);
          throw new Error('kaput');
        });
        sim.run();
        return {};
      },
    });
    try {
      runScenario(broken, { seed: 9 });
      throw new Error('expected a failure');
    } catch (error) {
      const e = error as DsimError;
      expect(e.code).toBe('PROCESS_FAILED');
      expect(e.seed).toBe('9');
      expect(e.simTime).toBe(5);
      expect(e.reproduce).toBe('dsim run broken --seed 9');
      expect(e.describe()).toContain("process 'boom' failed: kaput");
    }
  });
});
