import { Network, RpcEndpoint, type RpcResponse, Simulation, type TraceRecord } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { LoadBalancer } from '../src/balancer/load-balancer.js';
import type { LoadBalancerOptions } from '../src/balancer/load-balancer-options.js';
import { Service } from '../src/service/service.js';

/** Backends with their own service times; answers record when and from whom. */
function setup(times: Record<string, number>, options: Omit<LoadBalancerOptions, 'backends'> = {}) {
  const sim = new Simulation({ seed: 7 });
  const net = new Network(sim);
  for (const [address, serviceTime] of Object.entries(times))
    new Service(net.addNode(address), { serviceTime, concurrency: 1000, respond: () => address });
  const lb = new LoadBalancer(net.addNode('lb'), { backends: Object.keys(times), ...options });
  const client = new RpcEndpoint(net.addNode('client'));
  const answers: { id: number; at: number; res: RpcResponse }[] = [];
  let next = 0;
  const send = () => {
    const id = next++;
    client.call('lb', id).onProcessed((e) => answers.push({ id, at: sim.now, res: e.value! }));
  };
  const drains: TraceRecord[] = [];
  sim.inspect((r) => {
    if (r.type === '@dsim.lb.drain') drains.push(r);
  });
  const conserved = () => {
    const s = lb.stats;
    expect(s.requests).toBe(s.ok + s.failed + s.overloaded + s.noBackend + s.inFlight);
    expect(s.inFlight).toBe(0);
    expect(new Set(answers.map((a) => a.id)).size).toBe(answers.length); // each answered once
    expect(answers).toHaveLength(next);
  };
  return { sim, lb, client, answers, send, drains, conserved };
}

const who = (r: RpcResponse) => (r.ok ? (r.value as string) : `error:${r.error.kind}`);

describe('LoadBalancer draining (deregistration delay)', () => {
  it('in-flight requests finish, new ones go elsewhere, and the drain ends early when nothing is left', () => {
    const { sim, lb, answers, send, drains, conserved } = setup({ a: 500, b: 500 });
    for (let i = 0; i < 4; i++) sim.schedule(0, send); // a b a b
    sim.schedule(100, () => expect(lb.removeBackend('a', { drain: '10s' })).toBe(true));
    for (let t = 100; t < 400; t += 50) sim.schedule(t + 1, send);
    sim.schedule(200, () => expect(lb.draining).toEqual(['a']));
    sim.run();
    const fromA = answers.filter((x) => who(x.res) === 'a');
    expect(fromA.map((x) => [x.id, x.at])).toEqual([
      [0, 500],
      [2, 500],
    ]);
    expect(answers.filter((x) => x.id >= 4).every((x) => who(x.res) === 'b')).toBe(true);
    expect(drains.map((r) => [r.t, r.phase, r.reason ?? null, r.inFlight])).toEqual([
      [100, 'start', null, 2],
      [500, 'end', 'drained', 0],
    ]);
    expect(drains[0]!.deadline).toBe(10_100);
    expect(lb.draining).toEqual([]);
    expect(lb.stats.cut).toBe(0);
    conserved();
  });

  it('at the deadline the requests still in flight are cut, exactly then, and answered unavailable', () => {
    const { sim, lb, answers, send, drains, conserved } = setup({ a: 5000, b: 10 });
    for (let i = 0; i < 4; i++) sim.schedule(0, send); // a b a b
    sim.schedule(100, () => lb.removeBackend('a', { drain: 1000 }));
    sim.run();
    const cut = answers.filter((x) => x.id === 0 || x.id === 2);
    expect(cut.map((x) => [x.at, who(x.res)])).toEqual([
      [1100, 'error:unavailable'],
      [1100, 'error:unavailable'],
    ]);
    expect(drains.map((r) => [r.t, r.phase, r.reason ?? null, r.cut ?? null])).toEqual([
      [100, 'start', null, null],
      [1100, 'end', 'deadline', 2],
    ]);
    expect(lb.stats).toMatchObject({ requests: 4, ok: 2, failed: 2, cut: 2, inFlight: 0 });
    expect(sim.metrics.counter('lb', 'lb.drain.cut').value).toBe(2);
    // The backend's late answers (at 5000) are ignored: still one answer per request.
    expect(sim.now).toBeGreaterThanOrEqual(5000);
    conserved();
  });

  it('drain: true is AWS deregistration_delay default, 300 s; drain 0 cuts at once', () => {
    const one = setup({ a: 1e6, b: 1 }, { timeout: Infinity });
    one.sim.schedule(0, one.send);
    one.sim.schedule(10, () => one.lb.removeBackend('a', { drain: true }));
    one.sim.run();
    expect(one.drains[0]!.deadline).toBe(300_010);
    expect(one.answers[0]!.at).toBe(300_010);
    one.conserved();
    const zero = setup({ a: 1e6, b: 1 });
    zero.sim.schedule(0, zero.send);
    zero.sim.schedule(10, () => zero.lb.removeBackend('a', { drain: 0 }));
    zero.sim.run();
    expect(zero.answers.map((x) => [x.at, who(x.res)])).toEqual([[10, 'error:unavailable']]);
  });

  it('a cut attempt is retried on another backend when retry allows it', () => {
    const { sim, lb, answers, send, conserved } = setup(
      { a: 5000, b: 10 },
      { retry: { backoff: { kind: 'none' } } },
    );
    sim.schedule(0, send); // a
    sim.schedule(100, () => lb.removeBackend('a', { drain: 1000 }));
    sim.run();
    expect(answers.map((x) => [x.at, who(x.res)])).toEqual([[1110, 'b']]);
    expect(lb.stats).toMatchObject({ ok: 1, cut: 1, retries: 1 });
    conserved();
  });

  it('adding a draining backend back ends its drain; its requests carry on', () => {
    const { sim, lb, answers, send, drains, conserved } = setup({ a: 3000, b: 10 });
    sim.schedule(0, send); // a
    sim.schedule(100, () => lb.removeBackend('a', { drain: 1000 }));
    sim.schedule(500, () => lb.addBackend('a'));
    sim.run();
    expect(answers.map((x) => [x.at, who(x.res)])).toEqual([[3000, 'a']]);
    expect(drains.map((r) => [r.t, r.phase, r.reason ?? null])).toEqual([
      [100, 'start', null],
      [500, 'end', 're-added'],
    ]);
    expect(lb.addresses).toEqual(['b', 'a']);
    conserved();
  });

  it('removeBackend options are checked: did-you-mean and the drain value', () => {
    const { lb } = setup({ a: 1 });
    expect(() => lb.removeBackend('a', { drian: 5 } as never)).toThrow(
      /did you mean "removeBackend\(options\)\.drain"/,
    );
    expect(() => lb.removeBackend('a', { drain: -1 })).toThrow(/drain/);
    expect(() => lb.removeBackend('a', { drain: '5 minutes' })).toThrow(/drain/);
    expect(lb.addresses).toEqual(['a']);
    expect(lb.removeBackend('zzz', { drain: 5 })).toBe(false);
  });

  it('conservation across many requests, drains and cuts', () => {
    const { sim, lb, send, conserved } = setup(
      { a: 300, b: 700, c: 50, d: 2000 },
      { policy: { kind: 'random' } },
    );
    for (let t = 0; t < 20_000; t += 7) sim.schedule(t, send);
    sim.schedule(3000, () => lb.removeBackend('d', { drain: 500 }));
    sim.schedule(6000, () => lb.removeBackend('b', { drain: 100 }));
    sim.schedule(9000, () => lb.addBackend('d'));
    sim.schedule(12_000, () => lb.removeBackend('a', { drain: Infinity }));
    sim.run();
    expect(lb.stats.cut).toBeGreaterThan(0);
    conserved();
  });
});
