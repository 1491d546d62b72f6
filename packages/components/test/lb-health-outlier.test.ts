import { Network, Simulation, type TraceRecord } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { thrown } from '../../core/test/support/thrown.js';
import { OutlierDetection } from '../src/balancer/health/outlier-detection.js';
import type { OutlierDetectionOptions } from '../src/balancer/health/outlier-options.js';

interface Ejection {
  t: number;
  backend: string;
  reason: string;
  ejectionTime: number;
}

function setup(options?: OutlierDetectionOptions) {
  const sim = new Simulation({ seed: 3 });
  const od = new OutlierDetection(sim, options);
  const ejections: Ejection[] = [];
  const returns: Array<{ t: number; backend: string; ejectedFor: number }> = [];
  let ejectedNow = 0;
  let maxEjected = 0;
  sim.inspect((r: TraceRecord) => {
    if (r.type === '@dsim.lb.eject') {
      ejections.push({
        t: r.t,
        backend: String(r.backend),
        reason: String(r.reason),
        ejectionTime: Number(r.ejectionTime),
      });
      maxEjected = Math.max(maxEjected, ++ejectedNow);
    }
    if (r.type === '@dsim.lb.uneject') {
      ejectedNow--;
      returns.push({ t: r.t, backend: String(r.backend), ejectedFor: Number(r.ejectedFor) });
    }
  });
  return { sim, od, ejections, returns, maxEjected: () => maxEjected };
}

/**
 * Every `every` ms, each host that is available gets one request, answered at once: `fails(host, n)`
 * (n = that host's request number) says whether it is a 5xx ('error').
 */
function drive(
  sim: Simulation,
  od: OutlierDetection,
  hosts: readonly string[],
  fails: (host: string, n: number) => boolean,
  every = 100,
): Map<string, number> {
  const sent = new Map<string, number>(hosts.map((h) => [h, 0]));
  const tick = (): void => {
    for (const h of hosts) {
      if (!od.isAvailable(h)) continue;
      const n = sent.get(h)! + 1;
      sent.set(h, n);
      const bad = fails(h, n);
      od.onResponse(h, !bad, bad ? 'error' : undefined, 1);
    }
    sim.schedule(every, tick);
  };
  sim.schedule(every, tick);
  return sent;
}

const hostsN = (n: number) => Array.from({ length: n }, (_, i) => `app-${i}`);

describe('OutlierDetection: consecutive 5xx (Envoy defaults)', () => {
  it('ejects inline on the 5th consecutive 5xx; a non-5xx answer resets the count', () => {
    const c = setup();
    c.od.start({ addresses: hostsN(10) });
    for (let i = 0; i < 4; i++) c.od.onResponse('app-1', false, 'error', 1);
    c.od.onResponse('app-1', false, 'rejected', 1); // 429: not a 5xx
    for (let i = 0; i < 4; i++) c.od.onResponse('app-1', false, 'overloaded', 1);
    expect(c.od.isAvailable('app-1')).toBe(true);
    expect(c.od.host('app-1')?.consecutive5xx).toBe(4);
    c.od.onResponse('app-1', false, 'timeout', 1);
    expect(c.od.isAvailable('app-1')).toBe(false);
    expect(c.ejections).toEqual([
      { t: 0, backend: 'app-1', reason: 'consecutive-5xx', ejectionTime: 30_000 },
    ]);
    expect(c.od.stats.ejections).toBe(1);
  });

  it('ejects for 30 s, 60 s, 90 s ... capped at 300 s while the host keeps failing; 5 failures per return', () => {
    const c = setup();
    const hosts = hostsN(10);
    c.od.start({ addresses: hosts });
    const sent = drive(c.sim, c.od, hosts, (h) => h === 'app-0');
    c.sim.run({ until: 2_600_000 });
    const times = c.ejections.map((e) => e.ejectionTime / 1000);
    expect(times.slice(0, 11)).toEqual([30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 300]);
    expect(new Set(times.slice(9))).toEqual(new Set([300]));
    // The first ejection is at the 5th request (t = 500); each host returns at the first 10 s sweep
    // at or after its ejection time has passed.
    expect(c.ejections[0]!.t).toBe(500);
    expect(c.returns[0]).toEqual({ t: 40_000, backend: 'app-0', ejectedFor: 39_500 });
    for (const [i, r] of c.returns.entries()) {
      expect(r.ejectedFor).toBeGreaterThanOrEqual(c.ejections[i]!.ejectionTime);
      expect(r.ejectedFor).toBeLessThan(c.ejections[i]!.ejectionTime + 10_000);
    }
    // Each return costs exactly 5 failed requests.
    expect(sent.get('app-0')).toBe(5 * c.ejections.length);
    expect(c.od.host('app-0')?.multiplier).toBe(10);
  });

  it('with two bad hosts out of 10, only one is ejected at a time (10% of 10 = 1)', () => {
    const c = setup();
    const hosts = hostsN(10);
    c.od.start({ addresses: hosts });
    drive(c.sim, c.od, hosts, (h) => h === 'app-3' || h === 'app-7');
    c.sim.run({ until: 600_000 });
    expect(c.maxEjected()).toBe(1);
    expect(new Set(c.ejections.map((e) => e.backend))).toEqual(new Set(['app-3', 'app-7']));
    expect(c.od.stats.overflow).toBeGreaterThan(0);
  });

  it('with 3 bad hosts of 5 and maxEjectionPercent 10, only 1 is ejected (one host is always ejectable)', () => {
    const c = setup({ maxEjectionPercent: 10 });
    const hosts = hostsN(5);
    c.od.start({ addresses: hosts });
    drive(c.sim, c.od, hosts, (h) => h !== 'app-3' && h !== 'app-4');
    c.sim.run({ until: 20_000 });
    expect(c.od.ejectedHosts).toEqual(['app-0']);
    expect(c.maxEjected()).toBe(1);
    // With 40% allowed, two of them can be out at once.
    const d = setup({ maxEjectionPercent: 40 });
    d.od.start({ addresses: hosts });
    drive(d.sim, d.od, hosts, (h) => h !== 'app-3' && h !== 'app-4');
    d.sim.run({ until: 20_000 });
    expect(d.od.ejectedHosts).toEqual(['app-0', 'app-1']);
  });

  it('the multiplier decays by one per sweep while the host is not ejected', () => {
    const c = setup();
    c.od.start({ addresses: hostsN(10) });
    const fail5 = () => {
      for (let i = 0; i < 5; i++) c.od.onResponse('app-2', false, 'error', 1);
    };
    c.sim.schedule(1000, fail5); // ejected 1000 .. 40000 (sweep), multiplier 1
    c.sim.run({ until: 45_000 });
    expect(c.od.isAvailable('app-2')).toBe(true);
    expect(c.od.host('app-2')?.multiplier).toBe(1);
    c.sim.run({ until: 55_000 }); // sweep at 50 s: 1 -> 0
    expect(c.od.host('app-2')?.multiplier).toBe(0);
    fail5(); // again 30 s, not 60 s
    expect(c.ejections.at(-1)?.ejectionTime).toBe(30_000);
    c.sim.run({ until: 95_000 }); // returned at 90 s
    fail5(); // at once: multiplier 2
    expect(c.ejections.at(-1)?.ejectionTime).toBe(60_000);
    c.sim.run({ until: 175_000 }); // returned at 160 s, one sweep (170 s) while healthy: 2 -> 1
    expect(c.od.host('app-2')?.multiplier).toBe(1);
    fail5();
    expect(c.ejections.at(-1)?.ejectionTime).toBe(60_000);
  });
});

describe('OutlierDetection: consecutive gateway failures', () => {
  it('detects but does not eject by default; a 500 resets the count', () => {
    const c = setup({ consecutive5xx: 100 });
    c.od.start({ addresses: hostsN(10) });
    for (let i = 0; i < 4; i++) c.od.onResponse('app-1', false, 'unavailable', 1);
    c.od.onResponse('app-1', false, 'error', 1);
    expect(c.od.host('app-1')?.consecutiveGatewayFailure).toBe(0);
    for (let i = 0; i < 5; i++) c.od.onResponse('app-1', false, 'gateway-timeout', 1);
    expect(c.od.stats.detected['consecutive-gateway-failure']).toBe(1);
    expect(c.od.isAvailable('app-1')).toBe(true);
    const d = setup({ consecutive5xx: 100, enforcingConsecutiveGatewayFailure: 100 });
    for (let i = 0; i < 5; i++) d.od.onResponse('app-1', false, 'timeout', 1);
    expect(d.ejections[0]?.reason).toBe('consecutive-gateway-failure');
  });
});

describe('OutlierDetection: success rate and failure percentage', () => {
  /** Each host gets 200 requests per 10 s interval; `failEvery(host)` = k fails every k-th (0: never). */
  function rates(failEvery: Record<string, number>, options: OutlierDetectionOptions = {}, every = 50) {
    const c = setup(options);
    const hosts = Object.keys(failEvery);
    c.od.start({ addresses: hosts });
    drive(c.sim, c.od, hosts, (h, n) => failEvery[h]! > 0 && n % failEvery[h]! === 0, every);
    c.sim.run({ until: 10_001 });
    return c;
  }

  it('ejects a host whose success rate is below mean - 1.9 stdev', () => {
    // 100, 100, 100, 100, 90: mean 98, stdev 4, threshold 90.4.
    const c = rates({ a: 0, b: 0, c: 0, d: 0, e: 10 });
    expect(c.ejections).toEqual([{ t: 10_000, backend: 'e', reason: 'success-rate', ejectionTime: 30_000 }]);
  });

  it('does not eject within 1.9 stdev, with too little volume, or with too few hosts', () => {
    // 100, 100, 100, 95, 95: mean 98, stdev 2.45, threshold 93.3.
    expect(rates({ a: 0, b: 0, c: 0, d: 20, e: 20 }).ejections).toEqual([]);
    // 199 requests per host per interval, volume 200 required.
    expect(rates({ a: 0, b: 0, c: 0, d: 0, e: 10 }, { successRateRequestVolume: 201 }).ejections).toEqual([]);
    expect(rates({ a: 0, b: 0, c: 0, e: 10 }).ejections).toEqual([]);
  });

  it('failure percentage: detected at >= 85% failures, ejected only when enforced', () => {
    // 'e' fails every request but one in 10 (90% failures); consecutive 5xx disabled in practice.
    const spec = { a: 0, b: 0, c: 0, d: 0, e: 0 };
    const run = (options: OutlierDetectionOptions) => {
      const c = setup({ consecutive5xx: 1_000_000, successRateMinimumHosts: 100, ...options });
      const hosts = Object.keys(spec);
      c.od.start({ addresses: hosts });
      drive(c.sim, c.od, hosts, (h, n) => h === 'e' && n % 10 !== 0, 50);
      c.sim.run({ until: 10_001 });
      return c;
    };
    const detectOnly = run({});
    expect(detectOnly.od.stats.detected['failure-percentage']).toBe(1);
    expect(detectOnly.ejections).toEqual([]);
    const enforced = run({ enforcingFailurePercentage: 100 });
    expect(enforced.ejections.map((e) => e.reason)).toEqual(['failure-percentage']);
  });
});

describe('OutlierDetection: clock, determinism, options', () => {
  it('on a NetNode, sweeps stall while paused and a crash forgets everything', () => {
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim);
    const lb = net.addNode('lb');
    const od = new OutlierDetection(lb);
    for (let i = 0; i < 5; i++) od.onResponse('x', false, 'error', 1);
    expect(od.isAvailable('x')).toBe(false);
    sim.schedule(5000, () => net.pause('lb'));
    sim.schedule(60_000, () => net.resume('lb'));
    sim.run({ until: 59_000 });
    expect(od.isAvailable('x')).toBe(false); // the sweeps of 10..50 s stalled
    sim.run({ until: 61_000 });
    expect(od.isAvailable('x')).toBe(true);
    for (let i = 0; i < 5; i++) od.onResponse('x', false, 'error', 1);
    net.crash('lb');
    expect(od.isAvailable('x')).toBe(true);
    expect(od.host('x')).toBeUndefined();
    net.restart('lb');
    sim.run({ until: 100_000 });
  });

  it('enforcement below 100% draws from a named stream: same seed, same ejections', () => {
    const run = (seed: number) => {
      const sim = new Simulation({ seed });
      const od = new OutlierDetection(sim, { enforcingConsecutive5xx: 50, maxEjectionPercent: 100 });
      for (let h = 0; h < 20; h++) for (let i = 0; i < 5; i++) od.onResponse(`h${h}`, false, 'error', 1);
      return od.ejectedHosts;
    };
    expect(run(1)).toEqual(run(1));
    expect(run(1).length).toBeGreaterThan(3);
    expect(run(1).length).toBeLessThan(17);
  });

  it('rejects typos with did-you-mean and bad values', () => {
    const sim = new Simulation({ seed: 1 });
    const make = (o: unknown) => new OutlierDetection(sim, o as OutlierDetectionOptions);
    expect(thrown(() => make({ consecutive5XX: 3 })).message).toContain('did you mean "consecutive5xx"');
    expect(thrown(() => make({ baseEjectTime: 3 })).message).toContain('did you mean "baseEjectionTime"');
    expect(thrown(() => make({ maxEjectionPercent: 120 })).message).toContain('maxEjectionPercent must be');
    expect(thrown(() => make({ consecutive5xx: 0 })).message).toContain('an integer >= 1');
    expect(thrown(() => make({ successRateStdevFactor: 1900 * 0 })).message).toContain('> 0');
    expect(thrown(() => make({ interval: '10 seconds' })).code).toBe('INVALID_DURATION');
    expect(thrown(() => new OutlierDetection({} as never)).message).toContain('a Simulation or a NetNode');
    const od = make({ interval: '5s', baseEjectionTime: '1m', maxEjectionTime: '10s' });
    expect(od.options.maxEjectionTime).toBe(60_000); // the larger of max and base
    od.stop();
  });
});
