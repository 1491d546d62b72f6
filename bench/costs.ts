/**
 * `rpc-costs`: what one RPC costs, measured on the built code: events per RPC, bytes allocated per RPC,
 * and the cost of each metric record on the hot path. Not a rate workload: it prints its own table.
 *
 * Bytes per RPC: the heap's growth over batches of 500 RPCs through a Service on a zero-latency network
 * (client, request hop, work, response hop, metrics on, tracing off). A batch during which the young
 * generation was collected grows less than it allocated; such batches are rare (one young collection
 * every few MB), so the median batch is an exact, collection-free count.
 */
import { Service } from '@dsim/components';
import { exponential, MetricsRegistry, Network, RpcEndpoint, Simulation } from '@dsim/core';

/** What `rpc-costs` measured. */
export interface RpcCosts {
  eventsPerRpc: number;
  bytesPerRpc: number;
  counterIncNs: number;
  gaugeSetNs: number;
  histogramRecordNs: number;
}

function rpcSetup() {
  const sim = new Simulation({ seed: 1 });
  const net = new Network(sim);
  new Service(net.addNode('server'), { concurrency: 1000, serviceTime: exponential({ mean: 1 }) });
  const client = new RpcEndpoint(net.addNode('client'));
  let answered = 0;
  const done = (): void => {
    answered++;
  };
  const batch = (n: number): void => {
    for (let i = 0; i < n; i++) client.callThen('server', i, undefined, done);
    sim.run();
  };
  return { sim, batch, answered: () => answered };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Nanoseconds per call of `fn` over `n` calls (after a warm-up of the same length). */
function nsPer(n: number, fn: (i: number) => void): number {
  for (let i = 0; i < n; i++) fn(i);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return ((performance.now() - t0) * 1e6) / n;
}

/** Measures {@link RpcCosts}. */
export function measureRpcCosts(): RpcCosts {
  // Events: one batch of calls made at time 0, so every event belongs to an RPC.
  const counted = rpcSetup();
  counted.batch(10_000);
  const eventsPerRpc = counted.sim.eventCount / counted.answered();

  const { batch } = rpcSetup();
  batch(20_000); // warm-up: compiled code, grown arrays and maps
  const perBatch = 500;
  const growth: number[] = [];
  for (let b = 0; b < 400; b++) {
    const before = process.memoryUsage().heapUsed;
    batch(perBatch);
    growth.push((process.memoryUsage().heapUsed - before) / perBatch);
  }

  // Metric records at a clock that advances 1 µs per record, as they run on the hot path.
  const clock = { now: 0 };
  const metrics = new MetricsRegistry(clock);
  const counter = metrics.counter('node', 'count');
  const gauge = metrics.gauge('node', 'level');
  const histogram = metrics.histogram('node', 'latency');
  const n = 5_000_000;
  const counterIncNs = nsPer(n, () => {
    clock.now += 0.001;
    counter.inc();
  });
  const gaugeSetNs = nsPer(n, (i) => {
    clock.now += 0.001;
    gauge.set(i & 15);
  });
  const rng = new Simulation({ seed: 1 }).rng('bench/costs');
  const latencies = Float64Array.from({ length: 1 << 16 }, () => exponential({ mean: 5 }).sample(rng));
  const histogramRecordNs = nsPer(n, (i) => {
    clock.now += 0.001;
    histogram.record(latencies[i & 0xffff]!);
  });
  return {
    eventsPerRpc: Number(eventsPerRpc.toFixed(2)),
    bytesPerRpc: Math.round(median(growth)),
    counterIncNs: Number(counterIncNs.toFixed(1)),
    gaugeSetNs: Number(gaugeSetNs.toFixed(1)),
    histogramRecordNs: Number(histogramRecordNs.toFixed(1)),
  };
}
