import { Network, RpcEndpoint, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { LoadBalancer } from '../src/balancer/load-balancer.js';
import { feedLoadBalancer } from '../src/discovery/endpoint-source.js';
import { ReadinessProbe } from '../src/discovery/readiness-probe.js';
import { ServiceEndpoints } from '../src/discovery/service-endpoints.js';
import { readinessBounds, readinessTimeline } from '../src/discovery/staleness.js';

/** Pods `pod-i` answering everything at once unless `stopped` (then refused, as a closed port). */
function setup(n = 2, propagationDelay = 1000) {
  const sim = new Simulation({ seed: 5 });
  const net = new Network(sim);
  const stopped = new Set<string>();
  const pods: string[] = [];
  for (let i = 0; i < n; i++) {
    const address = `pod-${i}`;
    pods.push(address);
    new RpcEndpoint(net.addNode(address)).serve((_req, reply) => {
      if (stopped.has(address)) reply.error('unavailable', 'connection refused');
      else reply.ok(i);
    });
  }
  const svc = new ServiceEndpoints(sim, { propagationDelay });
  return { sim, net, svc, pods, stopped };
}

describe('ReadinessProbe: the kubelet prober', () => {
  it('ready at the first passing probe; a hung pod is not ready when the 3rd probe in a row times out', () => {
    const c = setup(1);
    const probe = new ReadinessProbe(c.net.addNode('kubelet'), { target: 'pod-0', startAfter: 3000 });
    const flips: Array<[number, boolean]> = [];
    probe.onChange((ready) => flips.push([c.sim.now, ready]));
    c.sim.schedule(50_000, () => c.net.crash('pod-0'));
    c.sim.run({ until: 100_000 });
    // Ticks at 3, 13, ..., 43 s pass; 53 -> 54, 63 -> 64, 73 -> 74 s fail.
    expect(flips).toEqual([
      [3000, true],
      [74_000, false],
    ]);
    const s = {
      probeFirst: 3000,
      period: 10_000,
      timeout: 1000,
      failureThreshold: 3,
      propagationDelay: 1000,
    };
    expect(readinessTimeline(s, 50_000)).toEqual({ notReady: 74_000, removed: 75_000 });
    // A failure at a tick fails that tick's probe (the fault runs first).
    expect(readinessTimeline(s, 53_000).notReady).toBe(74_000);
    expect(readinessBounds(s)).toEqual({ best: 22_000, worst: 32_000 });
  });

  it('the window lies in [(F−1)·period + timeout, F·period + timeout) over every phase, and hits both ends', () => {
    const windows: number[] = [];
    for (const phase of [0, 1, 2500, 5000, 9999]) {
      const c = setup(1, 0);
      const probe = new ReadinessProbe(c.net.addNode('kubelet'), { target: 'pod-0', startAfter: phase });
      let down = Number.NaN;
      probe.onChange((ready) => {
        if (!ready) down = c.sim.now;
      });
      c.sim.schedule(60_000, () => c.net.crash('pod-0'));
      c.sim.run({ until: 120_000 });
      windows.push(down - 60_000);
      expect(down).toBe(
        readinessTimeline(
          { probeFirst: phase, period: 10_000, timeout: 1000, failureThreshold: 3, propagationDelay: 0 },
          60_000,
        ).notReady,
      );
    }
    expect(windows).toEqual([21_000, 21_001, 23_500, 26_000, 30_999]);
  });

  it('initialDelay skips the ticks before it; successThreshold needs that many passes in a row', () => {
    const c = setup(1);
    const probe = new ReadinessProbe(c.net.addNode('kubelet'), {
      target: 'pod-0',
      startAfter: 3000,
      initialDelay: 15_000,
      successThreshold: 2,
    });
    const flips: Array<[number, boolean]> = [];
    probe.onChange((ready) => flips.push([c.sim.now, ready]));
    c.sim.schedule(50_000, () => c.net.crash('pod-0'));
    c.sim.schedule(80_000, () => c.net.restart('pod-0'));
    c.sim.run({ until: 120_000 });
    // No probe at 3 and 13 s (running 0 and 10 s < 15 s); passes at 23 and 33 s: ready at 33 s.
    // Down at 74 s; back at 80 s: passes at 83 and 93 s, ready at 93 s.
    expect(flips).toEqual([
      [33_000, true],
      [74_000, false],
      [93_000, true],
    ]);
  });

  it('a timeout longer than the period runs probes back to back (the ticker keeps one tick)', () => {
    const c = setup(1);
    const probe = new ReadinessProbe(c.net.addNode('kubelet'), {
      target: 'pod-0',
      period: 1000,
      timeout: 2500,
    });
    c.net.crash('pod-0');
    c.sim.run({ until: 10_001 });
    // Probes at 0, 2.5, 5, 7.5 and 10 s, each starting as the previous one times out, not on the 1 s ticks.
    expect(probe.stats).toEqual({ probes: 5, failures: 4 });
  });
});

describe('ServiceEndpoints: EndpointSlices and kube-proxy', () => {
  it('publishes readiness changes one propagation delay later', () => {
    const c = setup(2);
    const probe = new ReadinessProbe(c.net.addNode('kubelet'), { target: 'pod-1', startAfter: 3000 });
    c.svc.addPod('pod-0');
    c.svc.addPod('pod-1', probe);
    expect(c.svc.ready('pod-0')).toBe(true);
    expect(c.svc.endpoints).toEqual([]);
    c.sim.run({ until: 1000 });
    expect(c.svc.endpoints).toEqual([]);
    c.sim.run({ until: 1001 });
    expect(c.svc.endpoints).toEqual(['pod-0']);
    c.sim.run({ until: 4001 });
    expect(c.svc.endpoints).toEqual(['pod-0', 'pod-1']);
    c.sim.schedule(50_000 - c.sim.now, () => c.net.crash('pod-1'));
    c.sim.run({ until: 75_000 });
    expect(c.svc.ready('pod-1')).toBe(false);
    expect(c.svc.endpoints).toEqual(['pod-0', 'pod-1']);
    c.sim.run({ until: 75_001 });
    expect(c.svc.endpoints).toEqual(['pod-0']);
  });

  it('termination: not ready at once, SIGTERM after preStop, SIGKILL at the grace period', () => {
    const c = setup(2);
    c.svc.addPod('pod-0');
    c.svc.addPod('pod-1');
    const events: Array<[string, number]> = [];
    c.sim.schedule(10_000, () =>
      c.svc.terminate('pod-0', {
        preStop: '5s',
        onSigterm: () => events.push(['TERM', c.sim.now]),
        onKill: () => events.push(['KILL', c.sim.now]),
      }),
    );
    c.sim.schedule(20_000, () =>
      c.svc.terminate('pod-1', {
        preStop: '40s',
        onSigterm: () => events.push(['TERM', c.sim.now]),
        onKill: () => events.push(['KILL', c.sim.now]),
      }),
    );
    c.sim.run({ until: 100_000 });
    // A preStop longer than the grace period: TERM at 30 s, KILL 2 s later (the one-off extension).
    expect(events).toEqual([
      ['TERM', 15_000],
      ['KILL', 40_000],
      ['TERM', 50_000],
      ['KILL', 52_000],
    ]);
    expect(c.svc.endpoints).toEqual([]);
  });

  it('the SIGTERM race: without a preStop sleep the pod refuses connections until kube-proxy catches up', () => {
    const run = (preStop: number) => {
      const c = setup(2);
      c.svc.addPod('pod-0');
      c.svc.addPod('pod-1');
      const lb = new LoadBalancer(c.net.addNode('kube-proxy'), { backends: [], timeout: 1000 });
      feedLoadBalancer(c.svc, lb);
      c.sim.schedule(10_000, () =>
        c.svc.terminate('pod-0', { preStop, onSigterm: () => c.stopped.add('pod-0') }),
      );
      const caller = new RpcEndpoint(c.net.addNode('caller'));
      let failed = 0;
      let answered = 0;
      // A request every 10 ms from 5 s to 15 s; round robin alternates the two pods.
      for (let t = 5000; t < 15_000; t += 10)
        c.sim.schedule(t, () =>
          caller.callThen('kube-proxy', 'GET /', {}, (res) => {
            answered++;
            if (!res.ok) failed++;
          }),
        );
      c.sim.run({ until: 20_000 });
      expect(answered).toBe(1000);
      return failed;
    };
    // SIGTERM at 10 s, the endpoint leaves kube-proxy at 11 s: the 100 requests of [10, 11) s alternate,
    // 50 reach pod-0 and are refused. A 5 s preStop outlasts the propagation: none.
    expect(run(0)).toBe(50);
    expect(run(5000)).toBe(0);
    expect(run(500)).toBe(25);
  });

  it('rejects bad input, naming the field', () => {
    const c = setup(1);
    expect(() => new ServiceEndpoints(c.sim, { propagationDelay: -1 })).toThrow(/propagationDelay/);
    expect(() => new ServiceEndpoints(c.sim, { delay: 1 } as never)).toThrow(/unknown option "delay"/);
    c.svc.addPod('pod-0');
    expect(() => c.svc.addPod('pod-0')).toThrow(/already a pod/);
    expect(() => c.svc.terminate('pod-9')).toThrow(/ServiceEndpoints.terminate: address must be a pod/);
    expect(() => c.svc.terminate('pod-0', { preStop: -5 })).toThrow(/preStop/);
    const kubelet = c.net.addNode('kubelet');
    expect(() => new ReadinessProbe(kubelet, { target: 'pod-0', failureThreshold: 0 })).toThrow(
      /ReadinessProbe: failureThreshold must be an integer >= 1, got 0/,
    );
    const probe = new ReadinessProbe(kubelet, { target: 'pod-0' });
    expect(() => new ServiceEndpoints(c.sim).addPod('pod-1', probe)).toThrow(/a ReadinessProbe of "pod-1"/);
  });
});
