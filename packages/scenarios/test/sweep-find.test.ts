import { describe, expect, it } from 'vitest';
import { mmc } from '../src/catalogue/mmc.js';
import { queueTheory } from '../src/queueing-theory.js';
import { type FindOptions, findThreshold, findVerdict, formatFind, parseFind } from '../src/sweep/find.js';
import { summarize } from '../src/sweep/stats.js';

/** Erlang C mean wait in ms of M/M/c with rates per second (null when unstable). */
const theoryWait = (lambda: number, mu: number, servers: number) =>
  queueTheory(lambda / 1000, mu / 1000, servers, 'exp')?.meanWait ?? Number.POSITIVE_INFINITY;

/**
 * The fewest servers for a mean wait under 100 ms at 4 arrivals/s, 1 service/s per server. Erlang C:
 * 554 ms with 5 servers, 142 ms with 6, 45 ms with 7: the answer, 7, is far from knife-edge.
 */
const servers: FindOptions = {
  param: 'servers',
  range: [1, 32],
  want: 'smallest',
  figure: 'meanWait',
  op: '<',
  bound: 100,
  seeds: [1, 2, 3, 4, 5],
  set: { lambda: 4, mu: 1, customers: 5000 },
};

describe('findThreshold()', () => {
  it('finds the smallest servers with mean wait < 100 ms: the Erlang C answer, exactly', () => {
    let expected = 0;
    for (let c = 1; c <= 32 && expected === 0; c++) if (theoryWait(4, 1, c) < 100) expected = c;
    expect(expected).toBe(7);
    expect(theoryWait(4, 1, 6)).toBeGreaterThan(140);
    expect(theoryWait(4, 1, 7)).toBeLessThan(50);

    const r = findThreshold(mmc, servers);
    expect(r.answer).toBe(expected);
    expect(r.bracket).toEqual({ holds: 7, fails: 6 });
    expect(r.width).toBe(1);
    expect(r.undecided).toEqual([]);
    expect(r.converged).toBe(true);
    expect(r.condition).toBe('meanWait < 100');
    // The ends first (the start of a search for the smallest is the high end), then the bisection.
    expect(r.points.map((p) => [p.value, p.role, p.verdict])).toEqual([
      [32, 'start', 'holds'],
      [1, 'end', 'fails'],
      [16, 'step', 'holds'],
      [8, 'step', 'holds'],
      [4, 'step', 'fails'],
      [6, 'step', 'fails'],
      [7, 'step', 'holds'],
    ]);
    expect(r.steps).toBe(5);
    expect(r.runs).toBe(35);
    // Every evaluated value carries its summary and its whole sweep point.
    const seven = r.points.find((p) => p.value === 7)!;
    expect(seven.summary.n).toBe(5);
    expect(seven.summary.ci!.high).toBeLessThan(100);
    expect(seven.point.id).toBe('servers=7');
    expect(seven.point.figures.theoryMeanWait!.mean).toBeCloseTo(theoryWait(4, 1, 7), 6);
    const text = formatFind(r);
    expect(text).toMatch(/^servers\s+verdict\s+n\s+meanWait mean\s+95% interval\n1\s+fails\s+5/);
    expect(text).toMatch(
      /smallest servers with mean meanWait < 100: 7 \(holds at 7, fails at 6; 7 values, 35 runs\)\n$/,
    );
  });

  it('finds the largest lambda with mean wait < 1 s within a bracket holding the Erlang C inversion', () => {
    // M/M/2 with mu = 1/s: Wq = rho^2 / (mu (1 - rho^2)), rho = lambda / 2, so Wq = 1 s at lambda = sqrt 2.
    let a = 0.5;
    let b = 1.99;
    for (let i = 0; i < 100; i++) {
      const m = (a + b) / 2;
      if (theoryWait(m, 1, 2) < 1000) a = m;
      else b = m;
    }
    expect(a).toBeCloseTo(Math.SQRT2, 9);

    const r = findThreshold(mmc, {
      param: 'lambda',
      range: [0.5, 1.9],
      want: 'largest',
      figure: 'meanWait',
      op: '<',
      bound: 1000,
      seeds: [1, 2, 3, 4, 5, 6, 7, 8],
      set: { servers: 2, mu: 1, customers: 5000 },
      tolerance: 0.01,
    });
    expect(r.spec.integer).toBe(false);
    expect(r.converged).toBe(true);
    expect(r.bracket.holds).toBeLessThanOrEqual(a);
    expect(r.bracket.fails).toBeGreaterThanOrEqual(a);
    expect(r.answer).toBe(r.bracket.holds);
    // Near the threshold the mean is within noise of the bound even with 4x the seeds: those values are
    // reported as undecided, inside the bracket, and each edge of the bracket is within the tolerance.
    expect(r.undecided.length).toBeGreaterThan(0);
    for (const u of r.undecided) {
      expect(u).toBeGreaterThan(r.bracket.holds);
      expect(u).toBeLessThan(r.bracket.fails);
      expect(r.points.find((p) => p.value === u)!.summary.n).toBe(32);
    }
    expect(r.undecided[0]! - r.bracket.holds).toBeLessThanOrEqual(0.01);
    expect(r.bracket.fails - r.undecided.at(-1)!).toBeLessThanOrEqual(0.01);
    expect(r.width).toBeLessThan(0.05);
    // Midpoints are short decimals, as a user would type them.
    for (const p of r.points) expect(String(p.value)).toMatch(/^\d\.\d{1,4}$|^\d$/);
    expect(formatFind(r)).toMatch(/; undecided at /);
  });

  it('is deterministic: the same options give the same result, byte for byte', () => {
    const a = findThreshold(mmc, { ...servers, range: [4, 12] });
    const b = findThreshold(mmc, { ...servers, range: [4, 12] });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.digest).toMatch(/^[0-9a-f]+$/);
    expect(a.answer).toBe(7);
    // Another seed list is another result (another digest), the same answer here.
    const c = findThreshold(mmc, { ...servers, range: [4, 12], seeds: [11, 12, 13, 14, 15] });
    expect(c.digest).not.toBe(a.digest);
    expect(c.answer).toBe(7);
  });

  it('adds replications to an undecided value before calling it undecided, and reports every value', () => {
    const seen: number[] = [];
    // Mean wait < 142 ms with 6 servers is a knife-edge (Erlang C: 142.4): undecided even with 4x seeds.
    const r = findThreshold(mmc, {
      ...servers,
      range: [5, 9],
      bound: 143,
      maxSeeds: 10,
      onPoint: (p) => seen.push(p.value),
    });
    expect(seen).toEqual(r.points.map((p) => p.value));
    const six = r.points.find((p) => p.value === 6)!;
    expect(six.verdict).toBe('undecided');
    expect(six.summary.n).toBe(10);
    expect(r.bracket).toEqual({ holds: 7, fails: 5 });
    expect(r.undecided).toEqual([6]);
    expect(r.converged).toBe(true);
  });

  it('says so when the condition does not hold where the search starts, or does not fail at the other end', () => {
    const small = { ...servers, set: { lambda: 4, mu: 1, customers: 500 } };
    expect(() => findThreshold(mmc, { ...small, range: [1, 5] })).toThrow(
      /meanWait < 100 fails where the search for the smallest servers starts at servers=5 \(mean \d+(\.\d+)?, 95% interval \[.*\] over 5 runs\), so no threshold is known to lie in servers 1\.\.5: the answer, if any, is above 5; move the range's high end up/,
    );
    expect(() => findThreshold(mmc, { ...small, range: [9, 32] })).toThrow(
      /meanWait < 100 still holds at the other end of the search for the smallest servers at servers=9 .*: the answer is 9 or below; move the range's low end down/,
    );
    // The wrong direction: for the largest servers, the search starts at 1, where it fails.
    expect(() => findThreshold(mmc, { ...small, want: 'largest' })).toThrow(
      /fails where the search for the largest servers starts at servers=1 .*check the direction \(want smallest\?\)/,
    );
    try {
      findThreshold(mmc, { ...small, range: [1, 5] });
    } catch (e) {
      expect((e as { code: string }).code).toBe('CONFIG_ERROR');
    }
  });

  it.each([
    [{ range: [20, 1] }, /range must be \[lo, hi\] with lo < hi \(write \[1, 20\]\), got \[20,1\]/],
    [{ range: [3, 3] }, /range must be \[lo, hi\] with lo < hi, got \[3,3\]/],
    [{ range: [1] }, /range must be two finite numbers \[lo, hi\]/],
    [
      { range: [0, 20] },
      /range must be within the allowed values of servers \(an integer >= 1 and <= 10000\)/,
    ],
    [{ range: [1.5, 20] }, /range must be whole numbers: servers is searched over integers/],
    [
      { param: 'server' },
      /param must be a numeric parameter of mmc: lambda, mu, servers, customers \(did you mean "servers"\?\), got "server"/,
    ],
    [{ param: 'service' }, /param must be a numeric parameter .*\(service is an enum parameter\)/],
    [{ tolerence: 2 }, /findThreshold\(mmc\): unknown option "tolerence" \(did you mean "tolerance"\?\)/],
    [
      { want: 'smalest' },
      /want must be "largest" or "smallest" \(did you mean "smallest"\?\), got "smalest"/,
    ],
    [{ op: '=<' }, /op must be one of <, <=, >, >=, got "=<"/],
    [{ bound: Number.NaN }, /bound must be a finite number, got NaN/],
    [{ seeds: [1] }, /seeds must be at least two seeds/],
    [{ seeds: [1, 1] }, /seeds must be distinct seeds/],
    [{ set: { servers: 3 } }, /set must be the fixed parameters, without the searched one \(servers\)/],
    [{ integer: false }, /integer must be true \(or left out\): servers is an integer parameter/],
    [{ tolerance: 0.5 }, /tolerance must be a whole number >= 1 \(servers is an integer\), got 0\.5/],
    [{ maxSteps: 0 }, /maxSteps must be a whole number from 1 to 1000, got 0/],
    [{ maxSeeds: 3 }, /maxSeeds must be a whole number from the number of seeds \(5\) to 100000, got 3/],
    [{ confidence: 95 }, /confidence must be a number in \(0, 1\), got 95/],
  ])('bad options %j are CONFIG_ERRORs naming the field', (extra, message) => {
    let error: unknown;
    try {
      findThreshold(mmc, { ...servers, ...(extra as object) } as FindOptions);
    } catch (e) {
      error = e;
    }
    expect((error as { code?: string }).code).toBe('CONFIG_ERROR');
    expect((error as Error).message).toMatch(message);
  });

  it('an unknown figure is an error with a did-you-mean, once the first value ran', () => {
    expect(() =>
      findThreshold(mmc, { ...servers, figure: 'meanWiat', set: { lambda: 4, customers: 200 } }),
    ).toThrow(
      /figure must be a numeric outcome figure of mmc \(did you mean "meanWait"\?\): customers, meanWait/,
    );
  });
});

describe('findVerdict()', () => {
  const s = summarize([40, 45, 50]); // mean 45, 95% interval about [32.6, 57.4]
  it.each([
    ['<', 100, 'holds'],
    ['<', 20, 'fails'],
    ['<', 50, 'undecided'],
    ['<=', 100, 'holds'],
    ['>', 20, 'holds'],
    ['>', 100, 'fails'],
    ['>=', 45, 'undecided'],
  ] as const)('mean 45 ± 12.4 %s %d: %s', (op, bound, verdict) => {
    expect(findVerdict(s, op, bound)).toBe(verdict);
  });

  it('decides a constant figure by its mean, the bound itself included or not as the operator says', () => {
    const c = summarize([1, 1, 1]);
    expect(findVerdict(c, '<', 1)).toBe('fails');
    expect(findVerdict(c, '<=', 1)).toBe('holds');
    expect(findVerdict(c, '>', 1)).toBe('fails');
    expect(findVerdict(c, '>=', 1)).toBe('holds');
    // One value has no interval: nothing to decide with.
    expect(findVerdict(summarize([1]), '<', 100)).toBe('undecided');
  });
});

describe('parseFind()', () => {
  it('parses (largest|smallest) PARAM in LO..HI where FIGURE OP BOUND', () => {
    expect(parseFind('smallest servers in 1..32 where meanWait < 100')).toEqual({
      want: 'smallest',
      param: 'servers',
      range: [1, 32],
      figure: 'meanWait',
      op: '<',
      bound: 100,
    });
    expect(parseFind('  largest lambda in 0.5 .. 1.9 where meanWait<=1e3 ')).toEqual({
      want: 'largest',
      param: 'lambda',
      range: [0.5, 1.9],
      figure: 'meanWait',
      op: '<=',
      bound: 1000,
    });
    expect(parseFind('smallest replicas in 1..9 where naive.availability >= 0.999')).toMatchObject({
      figure: 'naive.availability',
      op: '>=',
      bound: 0.999,
    });
    expect(parseFind('largest load in -1..1 where p99>.5').range).toEqual([-1, 1]);
  });

  it('feeds findThreshold', () => {
    const r = findThreshold(mmc, {
      ...parseFind('smallest servers in 4..12 where meanWait < 100'),
      seeds: servers.seeds,
      set: servers.set!,
    });
    expect(r.answer).toBe(7);
  });

  it.each([
    ['', /--find "": it is empty; write it as \(largest\|smallest\) PARAM in LO\.\.HI where FIGURE OP BOUND/],
    ['biggest servers in 1..9 where p99 < 1', /start with largest or smallest, got "biggest"/],
    ['smalest servers in 1..9 where p99 < 1', /got "smalest" \(did you mean "smallest"\?\)/],
    ['smallest', /after smallest comes the parameter's name, got nothing/],
    ['smallest servers from 1..9 where p99 < 1', /after smallest servers comes "in LO\.\.HI", got "from"/],
    ['smallest servers in 1-9 where p99 < 1', /the range is LO\.\.HI with numbers/],
    [
      'smallest servers in a..9 where p99 < 1',
      /the range is LO\.\.HI with numbers, such as 1\.\.32, got "a\.\.9"/,
    ],
    ['smallest servers in 9..1 where p99 < 1', /the range 9\.\.1 is reversed; write 1\.\.9/],
    ['smallest servers in 3..3 where p99 < 1', /the range 3\.\.3 is empty/],
    [
      'smallest servers in 1..9 wehre p99 < 1',
      /comes "where FIGURE OP BOUND", got "wehre" \(did you mean "where"\?\)/,
    ],
    ['smallest servers in 1..9', /comes "where FIGURE OP BOUND", got nothing/],
    ['smallest servers in 1..9 where p99 = 1', /the comparison must be one of <, <=, >, >= .*got "="/],
    ['smallest servers in 1..9 where p99 =< 1', /got "=<" \(write <=\)/],
    ['smallest servers in 1..9 where p99 200', /the condition is FIGURE OP BOUND/],
    ['smallest servers in 1..9 where < 200', /before < comes the figure's name/],
    ['smallest servers in 1..9 where p99 < 200ms', /the bound after < must be a number, got "200ms"/],
  ])('%j is a CONFIG_ERROR naming --find', (spec, message) => {
    let error: unknown;
    try {
      parseFind(spec);
    } catch (e) {
      error = e;
    }
    expect((error as { code?: string }).code).toBe('CONFIG_ERROR');
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message.startsWith(`--find ${JSON.stringify(spec)}: `)).toBe(true);
  });
});
