import { xxHash64Hex } from '@dsim/components';
import { DsimError } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { deriveSeed, gridPoints, parseSeeds, parseSweepValues, SWEEP_MAX_ITEMS } from '../src/sweep/grid.js';

/** The error `fn` throws: a DsimError with code and message. */
function error(fn: () => unknown): DsimError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DsimError);
    return err as DsimError;
  }
  throw new Error('expected an error');
}

describe('parseSeeds', () => {
  it('parses ranges (inclusive), lists, single seeds and string seeds, as strings', () => {
    expect(parseSeeds('1..5')).toEqual(['1', '2', '3', '4', '5']);
    expect(parseSeeds('1..100')).toHaveLength(100);
    expect(parseSeeds('1..100').at(-1)).toBe('100');
    expect(parseSeeds('1,2,7')).toEqual(['1', '2', '7']);
    expect(parseSeeds('42')).toEqual(['42']);
    expect(parseSeeds('7..7')).toEqual(['7']);
    expect(parseSeeds('a,b')).toEqual(['a', 'b']);
    expect(parseSeeds(' 1 .. 3 , x , 10 ')).toEqual(['1', '2', '3', 'x', '10']);
    expect(parseSeeds('-2..1')).toEqual(['-2', '-1', '0', '1']);
    expect(parseSeeds('01..03')).toEqual(['1', '2', '3']); // range seeds in plain decimal
    expect(parseSeeds('007')).toEqual(['007']); // a single seed exactly as written
    expect(parseSeeds(`1..${SWEEP_MAX_ITEMS}`)).toHaveLength(SWEEP_MAX_ITEMS);
  });

  it('refuses empty values, bad or reversed ranges, repeats and too many seeds, naming the flag', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /^--seeds "": give at least one seed$/],
      ['  ', /give at least one seed/],
      ['1,,2', /^--seeds "1,,2": item 2 of the comma list is empty$/],
      ['1,2,', /item 3 of the comma list is empty/],
      ['10..1', /^--seeds "10..1": the range 10..1 is reversed; write 1..10$/],
      [
        '1.5..3',
        /^--seeds "1.5..3": a seed range is two integers, start..end \(both included\), got 1.5..3$/,
      ],
      ['1..2.5', /a seed range is two integers/],
      ['a..c', /a seed range is two integers/],
      ['1..', /a seed range is two integers/],
      ['1..3,2', /seed 2 is given twice/],
      ['x,x', /seed x is given twice/],
      ['1..99999999999999999999', /integers within/],
      [`1..${SWEEP_MAX_ITEMS + 1}`, /more than 100000 seeds/],
      [`1..${SWEEP_MAX_ITEMS},x`, /more than 100000 seeds/],
    ];
    for (const [spec, message] of cases) {
      const e = error(() => parseSeeds(spec));
      expect(e.code, spec).toBe('CONFIG_ERROR');
      expect(e.message, spec).toMatch(message);
      expect(e.details).toEqual({ field: '--seeds', value: spec });
    }
    expect(error(() => parseSeeds('3..1', '--replications')).message).toMatch(/^--replications "3..1"/);
  });
});

describe('parseSweepValues', () => {
  it('parses lists, integer and decimal ranges, and single values, as strings', () => {
    expect(parseSweepValues('service', 'exp,const')).toEqual(['exp', 'const']);
    expect(parseSweepValues('service', ' exp , const ')).toEqual(['exp', 'const']);
    expect(parseSweepValues('lambda', '10..100:10')).toEqual([
      '10',
      '20',
      '30',
      '40',
      '50',
      '60',
      '70',
      '80',
      '90',
      '100',
    ]);
    expect(parseSweepValues('lambda', '1..4')).toEqual(['1', '2', '3', '4']); // step 1 by default
    expect(parseSweepValues('lambda', '0..10:3')).toEqual(['0', '3', '6', '9']); // end not reached
    expect(parseSweepValues('servers', '3')).toEqual(['3']);
    expect(parseSweepValues('lambda', '1..2:0.5,5')).toEqual(['1', '1.5', '2', '5']);
    expect(parseSweepValues('x', '-1..1:0.5')).toEqual(['-1', '-0.5', '0', '0.5', '1']);
    expect(parseSweepValues('x', '1e-3..3e-3:1e-3')).toEqual(['0.001', '0.002', '0.003']);
  });

  it('computes decimal steps without drift: start + i step, rounded to the decimals given', () => {
    expect(parseSweepValues('loss', '0.1..0.5:0.1')).toEqual(['0.1', '0.2', '0.3', '0.4', '0.5']);
    expect(parseSweepValues('loss', '0.05..0.5:0.1')).toEqual(['0.05', '0.15', '0.25', '0.35', '0.45']);
    // (0.3 - 0.1) / 0.1 is 1.9999999999999998 in floating point: the end is still included.
    expect(parseSweepValues('loss', '0.1..0.3:0.1')).toEqual(['0.1', '0.2', '0.3']);
    const hundredths = parseSweepValues('p', '0..1:0.01');
    expect(hundredths).toHaveLength(101);
    expect(hundredths[7]).toBe('0.07'); // 7 * 0.01 = 0.07000000000000001 unrounded
    expect(hundredths[29]).toBe('0.29');
    expect(hundredths.at(-1)).toBe('1');
    for (const v of hundredths) expect(v.length).toBeLessThanOrEqual(4);
    // Accumulating 0.1 ten times gives 0.9999999999999999; start + i step does not.
    expect(parseSweepValues('x', '0..1:0.1').at(-1)).toBe('1');
  });

  it('refuses malformed values, naming the flag, the key and the value', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /^--set "lambda=": give at least one value$/],
      ['1,,2', /^--set "lambda=1,,2": item 2 of the comma list is empty$/],
      ['5..1', /^--set "lambda=5..1": the range 5..1 is reversed; write 1..5$/],
      ['5..1:2', /the range 5..1:2 is reversed; write 1..5:2/],
      ['1..5:0', /^--set "lambda=1..5:0": the step of 1..5:0 must be > 0$/],
      ['1..5:-1', /the step of 1..5:-1 must be > 0/],
      ['1..', /a range is start..end or start..end:step with numbers \(both ends included\), got 1..$/],
      ['a..b', /a range is start..end/],
      ['1..5:x', /a range is start..end/],
      ['1..1e400', /must be finite numbers/],
      ['1,2,1', /value 1 is given twice/],
      ['1..3,2', /value 2 is given twice/],
      ['0..1:0.000001', /more than 100000 values; use a coarser step/],
    ];
    for (const [spec, message] of cases) {
      const e = error(() => parseSweepValues('lambda', spec));
      expect(e.code, spec).toBe('CONFIG_ERROR');
      expect(e.message, spec).toMatch(message);
      expect(e.details).toEqual({ field: 'lambda', value: spec });
    }
    expect(error(() => parseSweepValues('lambda', '2..1', '--sweep')).message).toMatch(
      /^--sweep "lambda=2..1"/,
    );
    expect(error(() => parseSweepValues('', '1')).code).toBe('INVALID_ARGUMENT');
  });
});

describe('gridPoints', () => {
  it('crosses the values in order, the last key fastest, with stable ids', () => {
    const points = gridPoints({ lambda: ['10', '20'], servers: ['2', '3', '4'] });
    expect(points.map((p) => p.id)).toEqual([
      'lambda=10,servers=2',
      'lambda=10,servers=3',
      'lambda=10,servers=4',
      'lambda=20,servers=2',
      'lambda=20,servers=3',
      'lambda=20,servers=4',
    ]);
    expect(points[4]).toEqual({ id: 'lambda=20,servers=3', values: { lambda: '20', servers: '3' } });
    expect(Object.keys(points[0]!.values)).toEqual(['lambda', 'servers']);
    // Keys in the order given: swapping them changes the order and the ids.
    expect(gridPoints({ servers: ['2', '3'], lambda: ['10'] }).map((p) => p.id)).toEqual([
      'servers=2,lambda=10',
      'servers=3,lambda=10',
    ]);
    expect(gridPoints({ a: ['1'], b: ['x'], c: ['p', 'q'] }).map((p) => p.id)).toEqual([
      'a=1,b=x,c=p',
      'a=1,b=x,c=q',
    ]);
    expect(gridPoints({})).toEqual([{ id: '', values: {} }]);
    // Deterministic: the same grid gives the same points.
    const grid = { lambda: parseSweepValues('lambda', '0.1..0.9:0.1'), service: ['exp', 'const'] };
    expect(gridPoints(grid)).toEqual(gridPoints(grid));
    expect(gridPoints(grid)).toHaveLength(18);
  });

  it('refuses bad keys, empty or repeated values, colliding ids and too many points', () => {
    expect(error(() => gridPoints({ lambda: [] })).message).toMatch(
      /parameter lambda has no values to sweep/,
    );
    expect(error(() => gridPoints({ '': ['1'] })).message).toMatch(/must be non-empty/);
    expect(error(() => gridPoints({ 'a=b': ['1'] })).message).toMatch(/without "=" or ","/);
    expect(error(() => gridPoints({ a: ['1', '1'] })).message).toMatch(/value "1" is given twice/);
    expect(error(() => gridPoints({ a: [1 as unknown as string] })).message).toMatch(
      /values must be strings/,
    );
    expect(error(() => gridPoints({ a: ['x,b=1', 'x'], b: ['y', '1,b=y'] })).message).toMatch(
      /two points have the id "a=x,b=1,b=y"/,
    );
    const e = error(() => gridPoints({ a: parseSeeds('1..1000'), b: parseSeeds('1..101') }));
    expect(e.code).toBe('CONFIG_ERROR');
    expect(e.message).toMatch(/more than 100000 points \(a: 1000, b: 101\)/);
    expect(gridPoints({ a: parseSeeds('1..1000'), b: parseSeeds('1..100') })).toHaveLength(SWEEP_MAX_ITEMS);
  });
});

describe('deriveSeed', () => {
  it('is xxHash64 of the documented string, pinned so that seeds never change between versions', () => {
    expect(deriveSeed('42', 'lambda=10,servers=3', 0)).toBe(
      xxHash64Hex('dsim-sweep\u000042\u0000lambda=10,servers=3\u00000'),
    );
    expect(deriveSeed('42', 'lambda=10,servers=3', 0)).toBe('e75bcfe9c8725809');
    expect(deriveSeed(42, 'lambda=10,servers=3', 1)).toBe('04e84e87ee9d5eeb');
    expect(deriveSeed(42, 'lambda=10,servers=3', 1)).toBe(deriveSeed('42', 'lambda=10,servers=3', 1));
    expect(deriveSeed('42', 'lambda=10,servers=3', 0)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('depends on master, point and replication only: adding a point changes no other seed', () => {
    const seedsOf = (grid: Record<string, string[]>) =>
      new Map(gridPoints(grid).map((p) => [p.id, [0, 1, 2].map((r) => deriveSeed('m', p.id, r))]));
    const before = seedsOf({ lambda: ['1', '2'], servers: ['2'] });
    const after = seedsOf({ lambda: ['1', '2', '3'], servers: ['2', '5'] });
    for (const [id, seeds] of before) expect(after.get(id)).toEqual(seeds);
    // Distinct across points, replications and masters (64-bit hashes: no collisions in 30 000).
    const all = new Set<string>();
    for (const master of ['m', 'n', '1'])
      for (let p = 0; p < 100; p++) for (let r = 0; r < 100; r++) all.add(deriveSeed(master, `x=${p}`, r));
    expect(all.size).toBe(30_000);
    // NUL separators: ('a', 'b,c') and ('a,b', 'c') cannot run together.
    expect(deriveSeed('a', 'bc', 1)).not.toBe(deriveSeed('ab', 'c', 1));
  });

  it('refuses a bad master seed or replication', () => {
    expect(error(() => deriveSeed('', 'p', 0)).code).toBe('INVALID_ARGUMENT');
    expect(error(() => deriveSeed(Number.NaN, 'p', 0)).code).toBe('INVALID_ARGUMENT');
    expect(error(() => deriveSeed('m', 'p', -1)).message).toMatch(
      /replication must be an integer >= 0, got -1/,
    );
    expect(error(() => deriveSeed('m', 'p', 1.5)).code).toBe('INVALID_ARGUMENT');
  });
});
