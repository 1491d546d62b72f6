/**
 * `topology-hour` and `topology-linear`: the 20-node topology of docs/performance.md. One open-loop
 * client population (Poisson, 10 000 requests/s) calls one of 4 api services at random; each api worker
 * calls 2 distinct backends of 15, chosen at random, in parallel, then computes for exponential(0.5 ms)
 * and answers; each backend computes for exponential(2 ms) on 4 workers (utilisation 2/3). Every link
 * is a constant 0.2 ms. bench/simpy_bench.py runs the same model in SimPy.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { openLoop, Service } from '@dsim/components';
import { constant, exponential, Network, RpcEndpoint, Simulation } from '@dsim/core';

/** The model's parameters, shared with the SimPy script through its defaults. */
export const TOPOLOGY = {
  rate: 10_000,
  apis: 4,
  backends: 15,
  fanout: 2,
  apiWorkers: 32,
  apiServiceMs: 0.5,
  backendWorkers: 4,
  backendServiceMs: 2,
  linkMs: 0.2,
} as const;

// A full collection at the end of a run, so the heap it reports is what the run keeps, not garbage.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** What one run of the topology measured. */
export interface TopologyRun {
  requests: number;
  ok: number;
  meanLatency: number;
  events: number;
  digest: string;
  /** Largest heap seen while it ran (sampled every 200 000 events), garbage included, MB. */
  peakHeapMB: number;
  /** Largest resident set seen while it ran (sampled with the heap), MB. */
  peakRssMB: number;
  /** Heap after a full collection at the end of the run: what the simulation keeps, MB. */
  retainedHeapMB: number;
}

/** Builds the topology and returns a function that runs it for `seconds` of simulated time. */
export function buildTopology(seconds: number, seed = 1): () => TopologyRun {
  const sim = new Simulation({ seed });
  const net = new Network(sim, { defaults: { latency: constant(TOPOLOGY.linkMs) } });
  const backends = Array.from({ length: TOPOLOGY.backends }, (_, i) => `backend-${i + 1}`);
  const apis = Array.from({ length: TOPOLOGY.apis }, (_, i) => `api-${i + 1}`);
  for (const name of backends) {
    new Service(net.addNode(name), {
      concurrency: TOPOLOGY.backendWorkers,
      serviceTime: exponential({ mean: TOPOLOGY.backendServiceMs }),
    });
  }
  for (const name of apis) {
    const pick = sim.rng(`${name}/fanout`);
    new Service(net.addNode(name), {
      concurrency: TOPOLOGY.apiWorkers,
      serviceTime: exponential({ mean: TOPOLOGY.apiServiceMs }),
      downstream: {
        mode: 'parallel',
        // Two distinct backends, uniformly.
        calls: () => {
          const i = Math.floor(pick.next() * TOPOLOGY.backends);
          let j = Math.floor(pick.next() * (TOPOLOGY.backends - 1));
          if (j >= i) j++;
          return [backends[i]!, backends[j]!];
        },
      },
    });
  }
  const client = new RpcEndpoint(net.addNode('client'));
  const route = sim.rng('client/route');
  let latency = 0;
  let ok = 0;
  const record = (res: { ok: boolean; latency: number }): void => {
    if (res.ok) {
      ok++;
      latency += res.latency;
    }
  };
  const load = openLoop(sim, {
    arrivals: { kind: 'poisson', rate: TOPOLOGY.rate },
    until: seconds * 1000,
    stream: 'client/arrivals',
    onArrival: (index) => {
      client.callThen(apis[Math.floor(route.next() * TOPOLOGY.apis)]!, index, undefined, record);
    },
  });
  return () => {
    let peakHeap = 0;
    let peakRss = 0;
    const sample = (): void => {
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakRss = Math.max(peakRss, m.rss);
    };
    sample();
    const off = sim.watch(200_000, sample);
    sim.run();
    off();
    gc();
    return {
      requests: load.count,
      ok,
      meanLatency: ok === 0 ? 0 : latency / ok,
      events: sim.eventCount,
      digest: sim.digest(),
      peakHeapMB: Math.round(peakHeap / 1e6),
      peakRssMB: Math.round(peakRss / 1e6),
      retainedHeapMB: Math.round(process.memoryUsage().heapUsed / 1e6),
    };
  };
}
