import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../src/index.js';
import {
  exponential,
  Network,
  PerfettoBuilder,
  Resource,
  RpcEndpoint,
  recordPerfetto,
  Simulation,
  scheduleFaults,
} from '../src/index.js';

function traced() {
  const sim = new Simulation({ seed: 2 });
  const rec = recordPerfetto(sim, { seed: sim.seed, scenario: 'test' });
  const net = new Network(sim, { defaults: { latency: exponential({ mean: 2 }) } });
  const serverNode = net.addNode('server');
  const pool = new Resource(sim, { capacity: 2, name: 'workers' });
  new RpcEndpoint(serverNode).serve((_req, reply) => {
    sim.process(function* () {
      const r = yield* pool.request();
      yield sim.timeout(5);
      pool.release(r);
      reply.ok('done');
    });
  });
  const client = new RpcEndpoint(net.addNode('client'));
  for (let i = 0; i < 50; i++) sim.schedule(i * 2, () => client.call('server', i, { timeout: 30 }));
  scheduleFaults(net, [{ at: 40, for: 20, fault: { kind: 'partition', a: 'client', b: 'server' } }]);
  sim.run();
  return rec.trace();
}

describe('Perfetto exporter', () => {
  const trace = traced();
  const events = trace.traceEvents;

  it('writes the Chrome trace envelope with the seed', () => {
    expect(trace.displayTimeUnit).toBe('ms');
    expect(trace.otherData).toEqual({ seed: '2', scenario: 'test' });
    expect(JSON.parse(JSON.stringify(trace))).toEqual(trace);
  });

  it('pairs every async begin with one end of the same id and category, end not before begin', () => {
    const begins = new Map<string, TraceEvent>();
    const ends = new Map<string, TraceEvent>();
    for (const e of events) {
      if (e.ph === 'b') begins.set(`${e.cat}/${e.id}`, e);
      if (e.ph === 'e') ends.set(`${e.cat}/${e.id}`, e);
    }
    expect([...begins.values()].filter((e) => e.cat === 'rpc')).toHaveLength(50);
    expect([...begins.values()].filter((e) => e.cat === 'process').length).toBeGreaterThan(0);
    expect([...ends.keys()].sort()).toEqual([...begins.keys()].sort());
    for (const [key, b] of begins) expect(ends.get(key)!.ts!).toBeGreaterThanOrEqual(b.ts!);
  });

  it('uses documented phases, microsecond timestamps and named process tracks', () => {
    const phases = new Set(events.map((e) => e.ph));
    for (const ph of phases) expect(['b', 'e', 'i', 'C', 'M']).toContain(ph);
    const named = new Set(events.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => e.pid));
    for (const e of events) {
      expect(named.has(e.pid)).toBe(true);
      if (e.ph !== 'M') expect(typeof e.ts).toBe('number');
    }
    const firstCall = events.find((e) => e.ph === 'b' && e.cat === 'rpc')!;
    expect(firstCall.ts).toBe(0);
    const secondCall = events.filter((e) => e.ph === 'b' && e.cat === 'rpc')[1]!;
    expect(secondCall.ts).toBe(2000); // 2 ms
  });

  it('shows faults as global instants, drops as instants, and resource occupancy as counters', () => {
    expect(events.filter((e) => e.cat === 'fault').map((e) => [e.name, e.s, e.ts])).toEqual([
      ['fault: partition', 'g', 40_000],
      ['fault: heal', 'g', 60_000],
    ]);
    expect(events.some((e) => e.ph === 'i' && e.name === 'drop: partition')).toBe(true);
    const counters = events.filter((e) => e.ph === 'C');
    expect(counters.length).toBeGreaterThan(0);
    for (const c of counters) expect(Object.keys(c.args!)).toEqual(['inUse', 'queue']);
    expect(Math.max(...counters.map((c) => c.args!.inUse as number))).toBeLessThanOrEqual(2);
  });

  it('streams the same document through a sink, chunk by chunk', () => {
    const chunks: string[] = [];
    const streamed = new PerfettoBuilder({ seed: '2', scenario: 'test' }, { sink: (c) => chunks.push(c) });
    const sim = new Simulation({ seed: 2 });
    sim.inspect((r) => streamed.add(r));
    const pool = new Resource(sim, { capacity: 1, name: 'desk' });
    for (let i = 0; i < 20; i++) {
      sim.process(function* visitor() {
        const r = yield* pool.request();
        yield sim.timeout(3);
        pool.release(r);
      });
    }
    sim.run();
    streamed.finish();
    expect(chunks.length).toBeGreaterThan(40);
    const doc = JSON.parse(chunks.join(''));
    expect(doc.otherData).toEqual({ seed: '2', scenario: 'test' });
    expect(doc.traceEvents.filter((e: TraceEvent) => e.cat === 'process' && e.ph === 'b')).toHaveLength(20);
    expect(doc.traceEvents.filter((e: TraceEvent) => e.ph === 'C' && e.name === 'desk').length).toBe(60);
    expect(streamed.trace().traceEvents).toEqual([]);
  });
});
