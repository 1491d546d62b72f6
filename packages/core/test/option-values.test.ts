import { describe, expect, it } from 'vitest';
import {
  checkBoolean,
  checkDistribution,
  checkDuration,
  checkEnum,
  checkFunction,
  checkKindOf,
  checkName,
  checkNumber,
  checkObject,
  checkProbability,
  fieldPath,
  invalidOption,
  isDistribution,
  nested,
  owner,
  requireOptions,
} from '../src/option-values.js';
import { constant, exponential } from '../src/random/continuous.js';
import { RandomStream } from '../src/random/stream.js';
import { thrown } from './support/thrown.js';

const EVICTION = owner('CacheServer', 'eviction');

describe('invalidOption and owners', () => {
  it('names the component the user configured and the full path', () => {
    const err = invalidOption(EVICTION, 'samples', 100, 'an integer in [1, 64]');
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toBe('CacheServer: eviction.samples must be an integer in [1, 64], got 100');
    expect(err.details).toEqual({
      component: 'CacheServer',
      field: 'eviction.samples',
      value: 100,
      allowed: 'an integer in [1, 64]',
    });
  });

  it('adds a suggestion, shows a function by name and cuts long values short', () => {
    const err = invalidOption('Service', 'mode', 'paralel', 'one of "parallel"', 'parallel');
    expect(err.message).toBe(
      'Service: mode must be one of "parallel", got "paralel" (did you mean "parallel"?)',
    );
    expect(err.details.suggestion).toBe('parallel');
    function named(): void {}
    expect(invalidOption('Service', 'x', named, 'a number').message).toBe(
      'Service: x must be a number, got function named',
    );
    expect(invalidOption('Service', 'x', 'y'.repeat(200), 'short').message).toMatch(/got "y+\.\.\.$/);
  });

  it.each([
    ['Service', 'concurrency', 'concurrency'],
    [owner('Cache'), 'ttl', 'ttl'],
    [owner('buildCdn', 'edge'), 'capacity', 'edge.capacity'],
    [nested(owner('Cache', 'eviction'), 'decay'), 'halfLife', 'eviction.decay.halfLife'],
  ] as const)('fieldPath(%o, %s) is %s', (where, field, path) => {
    expect(fieldPath(where, field)).toBe(path);
  });
});

describe('checkNumber', () => {
  it.each([
    [{ integer: true, min: 1 }, 3, 3],
    [{ integer: true, min: 0, infinity: true }, Infinity, Infinity],
    [{ min: 0, max: 1 }, 0.5, 0.5],
    [{ above: 0 }, 0.001, 0.001],
  ])('%o accepts %s', (rule, value, expected) => {
    expect(checkNumber('Pool', 'size', value, rule)).toBe(expected);
  });

  it.each([
    [{ integer: true, min: 1 }, 0, 'Pool: size must be an integer >= 1, got 0'],
    [{ integer: true, min: 1 }, 2.5, 'Pool: size must be an integer >= 1, got 2.5'],
    [{ integer: true, min: 1, max: 64 }, 100, 'Pool: size must be an integer in [1, 64], got 100'],
    [{ integer: true, min: 0, infinity: true }, -1, 'Pool: size must be an integer >= 0 or Infinity, got -1'],
    [{ above: 0, unit: 'per second' }, 0, 'Pool: size must be a finite number > 0 (per second), got 0'],
    [{ max: 5 }, NaN, 'Pool: size must be a finite number <= 5, got NaN'],
    [{ min: 0 }, Infinity, 'Pool: size must be a finite number >= 0, got Infinity'],
    [{ min: 0 }, '3', 'Pool: size must be a finite number >= 0, got "3"'],
  ])('%o rejects %s', (rule, value, message) => {
    expect(thrown(() => checkNumber('Pool', 'size', value, rule)).message).toBe(message);
  });

  it('returns the fallback only for undefined', () => {
    expect(checkNumber('Pool', 'size', undefined, { integer: true, min: 1 }, 10)).toBe(10);
    expect(thrown(() => checkNumber('Pool', 'size', undefined, { integer: true, min: 1 })).message).toBe(
      'Pool: size must be an integer >= 1, got undefined',
    );
    expect(thrown(() => checkNumber('Pool', 'size', null, { integer: true, min: 1 }, 10)).message).toBe(
      'Pool: size must be an integer >= 1, got null',
    );
  });
});

describe('checkProbability', () => {
  it.each([0, 0.25, 1])('accepts %s', (p) => {
    expect(checkProbability('Service', 'errorRate', p)).toBe(p);
  });
  it.each([
    [-0.1, '-0.1'],
    [1.5, '1.5'],
    [NaN, 'NaN'],
    ['0.5', '"0.5"'],
  ])('rejects %s', (value, shown) => {
    expect(thrown(() => checkProbability('Service', 'errorRate', value)).message).toBe(
      `Service: errorRate must be a probability in [0, 1], got ${shown}`,
    );
  });
});

describe('checkDuration', () => {
  it.each([
    [0, {}, 0],
    [250, { positive: true }, 250],
    ['1.5s', {}, 1500],
    ['5m', { max: 600_000 }, 300_000],
    [Infinity, { infinity: true }, Infinity],
  ])('%s with %o is %s ms', (value, rule, ms) => {
    expect(checkDuration('Client', 'timeout', value, rule)).toBe(ms);
  });

  it.each([
    [0, { positive: true }, 'Client: timeout must be a duration > 0, such as 100 or "250ms", got 0'],
    [0, { positive: true, infinity: true }, 'Client: timeout must be a duration > 0 or Infinity, got 0'],
    [50, { min: 100 }, 'Client: timeout must be a duration >= 100 ms, got 50'],
    ['2s', { max: 1000 }, 'Client: timeout must be a duration >= 0 ms and <= 1000 ms, got "2s"'],
    [Infinity, {}, 'Client: timeout must be a duration >= 0 ms, such as 100 or "250ms", got Infinity'],
  ])('rejects %s with %o as INVALID_ARGUMENT', (value, rule, message) => {
    const err = thrown(() => checkDuration('Client', 'timeout', value, rule));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toBe(message);
  });

  it.each([
    ['5 minutes'],
    [-1],
    [NaN],
    [{}],
  ])('keeps INVALID_DURATION for %o, naming the component', (value) => {
    const err = thrown(() => checkDuration(owner('Cache', 'eviction'), 'halfLife', value));
    expect(err.code).toBe('INVALID_DURATION');
    expect(err.message.startsWith('Cache: eviction.halfLife must be ')).toBe(true);
    expect(err.details).toMatchObject({ component: 'Cache', field: 'eviction.halfLife', value });
  });
});

describe('checkEnum', () => {
  const MODES = ['sequential', 'parallel'] as const;
  it.each(['sequential', 'parallel'])('accepts %s', (mode) => {
    expect(checkEnum('Service', 'mode', mode, MODES)).toBe(mode);
  });
  it('returns the fallback for undefined', () => {
    expect(checkEnum('Service', 'mode', undefined, MODES, 'sequential')).toBe('sequential');
  });
  it.each([
    ['paralel', 'parallel'],
    ['Sequential', 'sequential'],
    ['fanout', undefined],
    [3, undefined],
  ])('rejects %o (suggestion %s)', (value, suggestion) => {
    const err = thrown(() => checkEnum('Service', 'mode', value, MODES));
    const hint = suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;
    expect(err.message).toBe(
      `Service: mode must be one of "sequential", "parallel", got ${JSON.stringify(value)}${hint}`,
    );
    expect(err.details.suggestion).toBe(suggestion);
  });
});

describe('checkBoolean, checkName, checkFunction, checkObject', () => {
  it.each([true, false])('checkBoolean accepts %s', (b) => {
    expect(checkBoolean('Service', 'dropExpired', b)).toBe(b);
  });
  it.each([
    ['yes', '"yes"'],
    [1, '1'],
    [null, 'null'],
  ])('checkBoolean rejects %o', (value, shown) => {
    expect(thrown(() => checkBoolean('Service', 'dropExpired', value, false)).message).toBe(
      `Service: dropExpired must be true or false, got ${shown}`,
    );
  });

  it.each([
    ['pool', 'pool'],
    [undefined, 'fallback'],
  ])('checkName accepts %o', (value, expected) => {
    expect(checkName('Pool', 'name', value, 'fallback')).toBe(expected);
  });
  it.each([
    ['', '""'],
    [7, '7'],
  ])('checkName rejects %o', (value, shown) => {
    expect(thrown(() => checkName('Pool', 'name', value)).message).toBe(
      `Pool: name must be a non-empty string, got ${shown}`,
    );
  });

  it('checkFunction returns the function or names the shape', () => {
    const fn = (x: number) => x;
    expect(checkFunction<typeof fn>('Service', 'respond', fn, '(request) => value')).toBe(fn);
    expect(thrown(() => checkFunction('Service', 'respond', 3, '(request) => value')).message).toBe(
      'Service: respond must be a function (request) => value, got 3',
    );
  });

  it.each([
    [null, 'null'],
    [[1], '[1]'],
    ['x', '"x"'],
  ])('checkObject rejects %o', (value, shown) => {
    expect(thrown(() => checkObject('Service', 'options', value, 'an options object')).message).toBe(
      `Service: options must be an options object, got ${shown}`,
    );
  });
});

describe('checkDistribution', () => {
  const rng = new RandomStream('t', 'option-values');
  it('keeps a distribution and turns a duration into a constant', () => {
    const d = exponential({ mean: 5 });
    expect(checkDistribution('Service', 'serviceTime', d, 'exponential({ mean: 5 })')).toBe(d);
    expect(checkDistribution('Service', 'serviceTime', '2s', 'exponential({ mean: 5 })').sample(rng)).toBe(
      2000,
    );
    expect(checkDistribution('Service', 'serviceTime', undefined, 'x', {}, constant(0)).sample(rng)).toBe(0);
    const never = checkDistribution('Cache', 'lag', Infinity, 'x', { infinity: true });
    expect(never.sample(rng)).toBe(Infinity);
  });

  it.each([
    [{ mean: 5 }, {}, ', or a duration, got {"mean":5}'],
    [{ sample: () => 1 }, {}, ', or a duration, got {}'],
    [true, { infinity: true }, ', a duration or Infinity, got true'],
  ])('rejects %o', (value, rule, tail) => {
    expect(
      thrown(() => checkDistribution('Service', 'serviceTime', value, 'exponential({ mean: 5 })', rule))
        .message,
    ).toBe(`Service: serviceTime must be a distribution such as exponential({ mean: 5 })${tail}`);
  });

  it('isDistribution wants sample() and describe()', () => {
    expect(isDistribution(exponential({ mean: 1 }))).toBe(true);
    expect(isDistribution({ sample: () => 1 })).toBe(false);
  });
});

describe('requireOptions and checkKindOf', () => {
  it('requires an object, then known keys', () => {
    expect(thrown(() => requireOptions('RemoteCache', undefined, ['client', 'server'])).message).toBe(
      'RemoteCache: options must be an object with the fields client, server, got undefined',
    );
    expect(thrown(() => requireOptions(EVICTION, 3, ['kind'])).message).toBe(
      'CacheServer: eviction must be an object with the fields kind, got 3',
    );
    expect(thrown(() => requireOptions('RemoteCache', { clinet: 1 }, ['client'])).details.suggestion).toBe(
      'client',
    );
  });

  const KINDS = { ring: ['kind', 'vnodes'], maglev: ['kind'] } as const;
  it.each([
    [
      'createPlacement',
      { kind: 'rign' },
      'createPlacement: kind must be one of "ring", "maglev", got "rign" (did you mean "ring"?)',
    ],
    [
      'createPlacement',
      'ring',
      'createPlacement: spec must be an object { kind: "ring" | "maglev", ... }, got "ring"',
    ],
    [
      owner('DistributedCache', 'placement'),
      { kind: 'magelv' },
      'DistributedCache: placement.kind must be one of "ring", "maglev", got "magelv" (did you mean "maglev"?)',
    ],
  ] as const)('%o rejects %o', (where, spec, message) => {
    expect(thrown(() => checkKindOf(where, spec, KINDS)).message).toBe(message);
  });
  it('returns the kind', () => {
    expect(checkKindOf('createPlacement', { kind: 'ring', vnodes: 4 }, KINDS)).toBe('ring');
  });
});
