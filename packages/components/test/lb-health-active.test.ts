import { Network, RpcEndpoint, Simulation, type TraceRecord } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { thrown } from '../../core/test/support/thrown.js';
import { ActiveHealthCheck } from '../src/balancer/health/active-health-check.js';
import type { ActiveHealthCheckOptions } from '../src/balancer/health/active-options.js';
import type { BackendHealth } from '../src/balancer/health/types.js';

/** Backends `app-0`... answering 'ok' (or what `answer` says), a balancer node `lb`, one-way latency 1 ms. */
function setup(n = 3, answer?: (backend: string, check: number) => boolean) {
  const sim = new Simulation({ seed: 7 });
  const net = new Network(sim, { defaults: { latency: 1 } });
  const names = Array.from({ length: n }, (_, i) => `app-${i}`);
  const served = new Map<string, number>();
  for (const name of names) {
    new RpcEndpoint(net.addNode(name)).serve((_req, reply) => {
      const k = (served.get(name) ?? 0) + 1;
      served.set(name, k);
      if (answer === undefined || answer(name, k)) reply.ok('ok');
      else reply.error('error', 'unhealthy');
    });
  }
  const lb = net.addNode('lb');
  const rpc = new RpcEndpoint(lb);
  const flips: Array<{ t: number; backend: string; state: string }> = [];
  sim.inspect((r: TraceRecord) => {
    if (r.type === '@dsim.lb.health')
      flips.push({ t: r.t, backend: String(r.backend), state: String(r.state) });
  });
  const make = (options: ActiveHealthCheckOptions) => new ActiveHealthCheck(rpc, options);
  return { sim, net, names, lb, rpc, flips, make };
}

const EXACT = { interval: 1000, timeout: 200, unhealthyThreshold: 3, healthyThreshold: 2 } as const;

describe('ActiveHealthCheck: Envoy-style consecutive thresholds', () => {
  it('is structurally a BackendHealth', () => {
    const c = setup();
    const h: BackendHealth = c.make(EXACT);
    expect(h.isAvailable('app-0')).toBe(true);
  });

  it('marks a crashed backend unhealthy exactly when the 3rd consecutive check times out', () => {
    const c = setup();
    const checks = c.make(EXACT);
    checks.start({ addresses: c.names });
    c.sim.schedule(2500, () => c.net.crash('app-1'));
    c.sim.run({ until: 5605 });
    expect(checks.isAvailable('app-1')).toBe(true);
    // Checks leave at 0, 1002, 2004, 3006 (rtt 2 ms, interval 1000 ms after each answer). The crash at
    // 2500 makes the check of 3006 time out at 3206; then 4206 -> 4406 and 5406 -> 5606.
    c.sim.run({ until: 5607 });
    expect(checks.isAvailable('app-1')).toBe(false);
    expect(checks.state('app-1')).toBe('unhealthy');
    expect(c.flips).toEqual([{ t: 5606, backend: 'app-1', state: 'unhealthy' }]);
    expect(checks.isAvailable('app-0')).toBe(true);
    // Restart at 8000: the check of 7806 is lost (timeout 8006), 9006 -> 9008 ok, 10008 -> 10010 ok.
    c.sim.schedule(8000 - c.sim.now, () => c.net.restart('app-1'));
    c.sim.run({ until: 12_000 });
    expect(c.flips[1]).toEqual({ t: 10_010, backend: 'app-1', state: 'healthy' });
    const gauge = c.sim.metrics.gauge('lb', 'lb.health.app-1');
    expect(gauge.mean()).toBeLessThan(1);
  });

  it('uses unhealthyInterval while a backend is unhealthy', () => {
    const c = setup(1);
    const checks = c.make({ ...EXACT, unhealthyInterval: 300 });
    checks.start({ addresses: c.names });
    c.net.crash('app-0');
    c.sim.run({ until: 10_000 });
    // Fails at 200, 1400, 2600 (unhealthy); then one check every 200 + 300 ms.
    expect(c.flips).toEqual([{ t: 2600, backend: 'app-0', state: 'unhealthy' }]);
    const before = checks.checks;
    c.sim.run({ until: 15_000 });
    expect(checks.checks - before).toBe(10);
  });

  it('does not flip a flapping backend on single failures', () => {
    // Every other check fails: never 3 failures (or 2 successes after a fall) in a row.
    const c = setup(1, (_b, k) => k % 2 === 1);
    const checks = c.make(EXACT);
    checks.start({ addresses: c.names });
    c.sim.run({ until: 60_000 });
    expect(checks.checks).toBeGreaterThan(50);
    expect(c.flips).toEqual([]);
    expect(checks.isAvailable('app-0')).toBe(true);
  });

  it('with startup first-success, a backend is out until one check passes', () => {
    const c = setup(2, (b) => b === 'app-0');
    const checks = c.make({ ...EXACT, startup: 'first-success' });
    expect(checks.isAvailable('app-0')).toBe(false);
    checks.start({ addresses: c.names });
    c.sim.run({ until: 1 });
    expect(checks.isAvailable('app-0')).toBe(false);
    c.sim.run({ until: 3 });
    // One success at t=2 is enough, whatever healthyThreshold says (Envoy's startup rule).
    expect(checks.isAvailable('app-0')).toBe(true);
    expect(checks.isAvailable('app-1')).toBe(false);
    c.sim.run({ until: 20_000 });
    expect(checks.isAvailable('app-1')).toBe(false);
  });

  it("the envoy preset picks 5 s / 1 s / 3 / 2, consecutive counting and Envoy's startup", () => {
    const c = setup(1);
    const checks = c.make({ preset: 'envoy' });
    expect(checks.options).toMatchObject({
      interval: 5000,
      timeout: 1000,
      unhealthyThreshold: 3,
      healthyThreshold: 2,
      counting: 'consecutive',
      startup: 'first-success',
    });
  });

  it('jitter draws from per-backend streams and is deterministic', () => {
    const times = (seed: number) => {
      const sim = new Simulation({ seed });
      const net = new Network(sim, { defaults: { latency: 1 } });
      for (const a of ['a', 'b']) new RpcEndpoint(net.addNode(a)).serve((_r, reply) => reply.ok('ok'));
      const rpc = new RpcEndpoint(net.addNode('lb'));
      const sent: number[] = [];
      sim.inspect((r) => {
        if (r.type === '@dsim.rpc.start') sent.push(r.t);
      });
      const checks = new ActiveHealthCheck(rpc, {
        ...EXACT,
        initialJitter: 500,
        intervalJitter: 100,
        intervalJitterPercent: 10,
      });
      checks.start({ addresses: ['a', 'b'] });
      sim.run({ until: 5000 });
      return sent;
    };
    const a = times(1);
    expect(times(1)).toEqual(a);
    expect(times(2)).not.toEqual(a);
    expect(a[0]).toBeGreaterThanOrEqual(0);
    expect(a[0]).toBeLessThan(500);
    // Each gap is interval + rtt + jitter in [0, 100 + 100).
    const gaps = a.slice(2).map((t, i) => t - a[i]!);
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(0);
  });
});

describe('ActiveHealthCheck: HAProxy preset', () => {
  it('goes DOWN after 3 failed checks and UP after 2 good ones (inter 2 s, timeout = inter)', () => {
    const c = setup(1);
    const checks = c.make({ preset: 'haproxy' });
    expect(checks.options).toMatchObject({
      interval: 2000,
      timeout: 2000,
      unhealthyThreshold: 3,
      healthyThreshold: 2,
    });
    checks.start({ addresses: c.names });
    c.sim.schedule(5000, () => c.net.crash('app-0'));
    // Checks at 0, 2002, 4004 pass (the health counter reaches rise + fall - 1 = 4); 6006, 10006, 14006
    // time out 2 s later: 4 -> 3 -> 2 -> DOWN at 16006.
    c.sim.run({ until: 16_006 });
    expect(checks.isAvailable('app-0')).toBe(true);
    c.sim.run({ until: 16_007 });
    expect(checks.isAvailable('app-0')).toBe(false);
    c.sim.schedule(17_000 - c.sim.now, () => c.net.restart('app-0'));
    // 18006 -> 18008 ok (1), 20008 -> 20010 ok (2 = rise): UP.
    c.sim.run({ until: 30_000 });
    expect(c.flips).toEqual([
      { t: 16_006, backend: 'app-0', state: 'unhealthy' },
      { t: 20_010, backend: 'app-0', state: 'healthy' },
    ]);
  });

  it('a server starts UP but falls at its first failed check (init-state up)', () => {
    const c = setup(1);
    const checks = c.make({ preset: 'haproxy' });
    c.net.crash('app-0');
    checks.start({ addresses: c.names });
    c.sim.run({ until: 10_000 });
    expect(c.flips[0]).toEqual({ t: 2000, backend: 'app-0', state: 'unhealthy' });
  });

  it('the health counter is not reset by an isolated success', () => {
    // From full health: fail, fail, ok, fail, fail -> 4, 3, 2, 3, 2, DOWN at the 5th check.
    const pattern = [true, true, true, false, false, true, false, false];
    const c = setup(1, (_b, k) => pattern[k - 1] ?? true);
    const checks = c.make({ preset: 'haproxy', timeout: 100 });
    checks.start({ addresses: c.names });
    c.sim.run({ until: 30_000 });
    expect(c.flips[0]?.state).toBe('unhealthy');
    // Consecutive counting never flips on the same pattern.
    const d = setup(1, (_b, k) => pattern[k - 1] ?? true);
    const consecutive = d.make({ preset: 'haproxy', timeout: 100, counting: 'consecutive' });
    consecutive.start({ addresses: d.names });
    d.sim.run({ until: 30_000 });
    expect(d.flips).toEqual([]);
  });

  it('a flapping server does not flip', () => {
    const c = setup(1, (_b, k) => k % 2 === 0 || k < 3);
    const checks = c.make({ preset: 'haproxy' });
    checks.start({ addresses: c.names });
    c.sim.run({ until: 100_000 });
    expect(c.flips).toEqual([]);
  });
});

describe('ActiveHealthCheck: membership and the balancer node', () => {
  it('follows the live address list, and add/remove act at once', () => {
    const c = setup(3);
    const checks = c.make(EXACT);
    const balancer = { addresses: ['app-0'] };
    checks.start(balancer);
    c.sim.run({ until: 500 });
    expect(checks.addresses).toEqual(['app-0']);
    balancer.addresses.push('app-1');
    c.sim.run({ until: 1500 });
    expect(checks.addresses).toEqual(['app-0', 'app-1']);
    checks.add('app-2');
    expect(checks.addresses).toEqual(['app-0', 'app-1', 'app-2']);
    balancer.addresses.splice(0, 1);
    c.sim.run({ until: 2500 });
    expect(checks.addresses).toEqual(['app-1', 'app-2']);
    checks.remove('app-2');
    expect(checks.state('app-2')).toBeUndefined();
    checks.stop();
    const sent = checks.checks;
    c.sim.run({ until: 10_000 });
    expect(checks.checks).toBe(sent);
  });

  it('a crash of the balancer node stops the checks; a restart starts them over', () => {
    const c = setup(1);
    const checks = c.make(EXACT);
    checks.start({ addresses: c.names });
    c.net.crash('app-0');
    c.sim.schedule(700, () => c.net.crash('lb'));
    c.sim.run({ until: 5000 });
    // One failure (200) before the balancer went down, none after.
    expect(checks.checks).toBe(1);
    expect(checks.isAvailable('app-0')).toBe(true);
    c.net.restart('lb');
    c.sim.run({ until: 20_000 });
    expect(checks.isAvailable('app-0')).toBe(false);
    // Restart at 5000: checks start over at once; timeouts at 5200, 6400, 7600.
    expect(c.flips).toEqual([{ t: 7600, backend: 'app-0', state: 'unhealthy' }]);
  });

  it('stalls while the balancer node is paused', () => {
    const c = setup(1);
    const checks = c.make(EXACT);
    checks.start({ addresses: c.names });
    c.sim.schedule(100, () => c.net.pause('lb'));
    c.sim.schedule(10_100, () => c.net.resume('lb'));
    c.sim.run({ until: 10_000 });
    expect(checks.checks).toBe(1);
  });
});

describe('ActiveHealthCheck: strict options', () => {
  it('rejects typos with did-you-mean and bad values', () => {
    const c = setup(1);
    expect(thrown(() => c.make({ preset: 'haproxy', intervall: 5 } as never)).message).toContain(
      'did you mean "interval"',
    );
    expect(thrown(() => c.make({ preset: 'haproxy', unhealthyTreshold: 5 } as never)).message).toContain(
      'did you mean "unhealthyThreshold"',
    );
    expect(thrown(() => c.make({ preset: 'envoi' as never })).message).toContain('did you mean "envoy"');
    expect(thrown(() => c.make({ interval: 1000, timeout: 100, unhealthyThreshold: 3 })).message).toContain(
      'healthyThreshold',
    );
    expect(thrown(() => c.make({ ...EXACT, interval: 0 })).message).toContain('interval must be');
    expect(thrown(() => c.make({ ...EXACT, healthyThreshold: 1.5 })).message).toContain('integer');
    expect(thrown(() => c.make({ ...EXACT, intervalJitterPercent: 150 })).message).toContain('[0, 100]');
    expect(thrown(() => c.make({ ...EXACT, initialJitter: -1 })).code).toBe('INVALID_DURATION');
    expect(thrown(() => c.make({ ...EXACT, startup: 'first' as never })).message).toContain('first-success');
    expect(thrown(() => new ActiveHealthCheck(c.lb as never, EXACT)).message).toContain('RpcEndpoint');
    expect(c.make({ ...EXACT, interval: '2s' }).options.interval).toBe(2000);
  });
});
