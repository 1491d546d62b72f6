/**
 * dsim benchmarks (see docs/performance.md). Scripts, not timed tests: the machines are shared
 * and noisy, so each workload runs `--repeat` times (default 3) and reports the best rate.
 *
 *   pnpm bench                 table on stdout
 *   pnpm bench --json          one JSON line per workload
 *   pnpm bench --only mm1      one workload
 *   pnpm bench --only cache    every cache-<policy> workload
 *   pnpm bench --only lb       every lb-<policy> workload
 *   pnpm bench --only kafka    3 brokers, RF 3, an idempotent producer and a consumer group
 *   pnpm bench --only amqp     one queue, 4 consumers
 *   pnpm bench --only sweep    dsim sweep on 1 worker thread, on every core, and through a Redis queue
 *   pnpm bench --only topology-linear   the 20-node topology for 1, 10 and 60 simulated minutes (slow)
 *   pnpm bench --only rpc-costs         events, bytes and metric records per RPC
 *   pnpm bench --no-simpy      skip the SimPy side-by-side run
 *
 * `pnpm bench` builds the packages first, bundles this script with esbuild (packages left external) and
 * runs it with plain node, so it measures the built `dist` code: what users import from npm. (Through
 * tsx, every file outside node_modules, the workspace's dist included, is recompiled with esbuild's
 * keepNames, which wraps each closure creation in a `__name()` call; that is a property of the dev
 * loader, not of dsim.)
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  AmqpBroker,
  AmqpClient,
  type BalancerPolicySpec,
  Cache,
  cheHitRatio,
  clusterRecordSource,
  createKeys,
  type EvictionSpec,
  GroupCoordinator,
  KafkaCluster,
  KafkaConsumer,
  KafkaProducer,
  LoadBalancer,
  lfuHitRatio,
  Service,
  zipfProbabilities,
} from '@dsim/components';
import { didYouMean, exponential, Network, Resource, RpcEndpoint, Simulation } from '@dsim/core';
import { mmc, retryStorm, runScenario, serveQueue, sweepInWorkers, sweepOnQueue } from '@dsim/scenarios';
import FastPriorityQueue from 'fastpriorityqueue';
import { flagError } from '../tools/flag-error.js';
import { measureRpcCosts } from './costs.js';
import { buildMm1Components } from './mm1-components.js';
import { buildTopology } from './topology.js';
import { buildTopologyCeiling } from './topology-ceiling.js';

interface BenchLine {
  workload: string;
  engine: string;
  ops: number;
  seconds: number;
  rate: number;
  unit: 'events' | 'customers' | 'requests' | 'messages' | 'runs';
  peakRssMB?: number;
  [extra: string]: unknown;
}

/** What a workload reports before it is timed (`Omit` would drop the named fields: BenchLine has an index signature). */
type WorkloadLine = Pick<BenchLine, 'workload' | 'engine' | 'ops' | 'unit'> & { [extra: string]: unknown };

const BENCH_OPTIONS = {
  json: { type: 'boolean', default: false },
  only: { type: 'string', multiple: true },
  repeat: { type: 'string', default: '3' },
  'no-simpy': { type: 'boolean', default: false },
} as const;

/** The flags, or exit 2 naming the bad one (with a "did you mean") instead of a stack trace. */
function parseFlags() {
  try {
    return parseArgs({ options: BENCH_OPTIONS }).values;
  } catch (error) {
    process.stderr.write(`bench: ${flagError(error, Object.keys(BENCH_OPTIONS))}\n`);
    process.exit(2);
  }
}
const values = parseFlags();
const repeat = Number(values.repeat);
if (!Number.isInteger(repeat) || repeat < 1) {
  process.stderr.write(`bench: --repeat must be an integer >= 1, got ${values.repeat}\n`);
  process.exit(2);
}

let peakRss = 0;
function sampleRss(): void {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}

/** `timeouts`: 1000 processes, each waiting 1000 exponential(mean 1) timeouts: 10^6 events. */
function timeouts(): WorkloadLine & { run: () => void } {
  const sim = new Simulation({ seed: 1 });
  const d = exponential({ mean: 1 });
  const rng = sim.rng('bench/timeouts');
  for (let p = 0; p < 1000; p++) {
    sim.process(function* () {
      for (let i = 0; i < 1000; i++) yield sim.timeout(d.sample(rng));
    });
  }
  return { workload: 'timeouts', engine: 'dsim', ops: 1_000_000, unit: 'events', run: () => void sim.run() };
}

/**
 * `mm1`: M/M/1 with core processes and a capacity-1 Resource, lambda 0.9, mu 1, 200 000 customers. The
 * Resource is unnamed, like SimPy's, so neither side records metrics; `mm1-named` names it, so it records
 * its queue, in-use and wait metrics, the price of looking at a run.
 */
function mm1(named: boolean) {
  return (): WorkloadLine & { run: () => void } => mm1Run(named);
}

function mm1Run(named: boolean): WorkloadLine & { run: () => void } {
  const customers = 200_000;
  const sim = new Simulation({ seed: 1 });
  const server = new Resource(sim, named ? { capacity: 1, name: 'server' } : { capacity: 1 });
  const arrivals = exponential({ mean: 1 / 0.9 });
  const service = exponential({ mean: 1 });
  const arrivalRng = sim.rng('arrivals');
  const serviceRng = sim.rng('service');
  let total = 0;
  function* customer() {
    const arrived = sim.now;
    const req = yield* server.request();
    yield sim.timeout(service.sample(serviceRng));
    server.release(req);
    total += sim.now - arrived;
  }
  sim.process(function* source() {
    for (let i = 0; i < customers; i++) {
      sim.process(customer());
      yield sim.timeout(arrivals.sample(arrivalRng));
    }
  });
  const line = {
    workload: named ? 'mm1-named' : 'mm1',
    engine: 'dsim',
    ops: customers,
    unit: 'customers' as const,
    meanTimeInSystem: 0,
    theoryMeanTimeInSystem: 10,
  };
  return {
    ...line,
    run: () => {
      sim.run();
      line.meanTimeInSystem = Number((total / customers).toFixed(4));
    },
    get meanTimeInSystem() {
      return line.meanTimeInSystem;
    },
  };
}

/**
 * `heap-ceiling`: the same 10^6 exponential holds as `timeouts`, as a bare loop over fastpriorityqueue
 * with the engine's struct-of-arrays keys and plain callbacks: no processes, no events, no digest. The
 * engine's own queue is a calendar queue, about half this heap's cost per operation (tools/queue-bench.ts),
 * so `timeouts` against this line is the price of processes and bookkeeping less what the calendar saves.
 */
function heapCeiling(): WorkloadLine & { run: () => void } {
  const sim = new Simulation({ seed: 1 });
  const d = exponential({ mean: 1 });
  const rng = sim.rng('bench/timeouts');
  const cap = 2048;
  const time = new Float64Array(cap);
  const seq = new Float64Array(cap);
  const left = new Int32Array(cap);
  const heap = new FastPriorityQueue<number>(
    (a, b) => time[a]! < time[b]! || (time[a] === time[b] && seq[a]! < seq[b]!),
  );
  let counter = 0;
  for (let p = 0; p < 1000; p++) {
    time[p] = 0;
    seq[p] = counter++;
    left[p] = 1000;
    heap.add(p);
  }
  return {
    workload: 'heap-ceiling',
    engine: 'bare-loop',
    ops: 1_000_000,
    unit: 'events',
    run: () => {
      // The best a loop can do with a binary heap: a process that waits again replaces the top in one
      // sift-down (replaceTop). The engine's own queue is a calendar queue, not this heap.
      while (heap.size > 0) {
        const slot = heap.peek()!;
        if (--left[slot]! > 0) {
          time[slot] = time[slot]! + d.sample(rng);
          seq[slot] = counter++;
          heap.replaceTop(slot);
        } else heap.poll();
      }
    },
  };
}

/**
 * `ping-pong`: two nodes bounce one message back and forth over a zero-latency link, 10^6 messages.
 * `ping-pong-traced` is the same with a trace listener attached (it counts records: the cost measured is
 * building and publishing them, not serialising them).
 */
function pingPong(traced: boolean): () => WorkloadLine & { run: () => void } {
  return () => {
    const messages = 1_000_000;
    const sim = new Simulation({ seed: 1 });
    let records = 0;
    if (traced) sim.inspect(() => records++);
    const net = new Network(sim);
    const a = net.addNode<number>('a');
    const b = net.addNode<number>('b');
    a.onMessage((m) => {
      if (m.payload < messages) a.send('b', m.payload + 1);
    });
    b.onMessage((m) => {
      if (m.payload < messages) b.send('a', m.payload + 1);
    });
    const line = {
      workload: traced ? 'ping-pong-traced' : 'ping-pong',
      engine: 'dsim',
      ops: messages,
      unit: 'messages' as const,
      traceRecords: 0,
    };
    return {
      ...line,
      run: () => {
        a.send('b', 1);
        sim.run();
        line.traceRecords = records;
      },
      get traceRecords() {
        return line.traceRecords;
      },
    };
  };
}

/**
 * `mm1-components`: the M/M/1 queue from a Service component and an RPC client over a zero-latency
 * network, lambda 0.9, mu 1 (per ms), 200 000 requests; prints the measured mean latency (theory 10).
 * The client takes its answers with `callThen`, the callback form components use; `call()` answers
 * through an event, one more queued event per request.
 */
function mm1Components(): WorkloadLine & { run: () => void } {
  const requests = 200_000;
  const model = buildMm1Components(requests);
  const line = {
    workload: 'mm1-components',
    engine: 'dsim',
    ops: requests,
    unit: 'requests' as const,
    meanLatency: 0,
    theoryMeanLatency: 10,
  };
  return {
    ...line,
    run: () => {
      line.meanLatency = Number(model().meanLatency.toFixed(4));
    },
    get meanLatency() {
      return line.meanLatency;
    },
  };
}

/**
 * `retry-storm`: the `retry-storm` scenario's naive variant for 10 simulated minutes: a metastable storm at
 * about 280 attempts per simulated second, every attempt timing out. Rate = client attempts per second.
 */
function retryStormRun(): WorkloadLine & { run: () => void } {
  const line = {
    workload: 'retry-storm',
    engine: 'dsim',
    ops: 0,
    unit: 'requests' as const,
    events: 0,
    amplification: 0,
  };
  return {
    ...line,
    run: () => {
      const result = runScenario(retryStorm, { seed: 1, params: { seconds: 600 }, variants: ['naive'] });
      line.ops = result.nodes.client?.counters['rpc.sent'] ?? 0;
      line.events = result.events;
      line.amplification = Number(result.outcome.amplification);
    },
    get ops() {
      return line.ops;
    },
    get events() {
      return line.events;
    },
    get amplification() {
      return line.amplification;
    },
  };
}

/** Shape of the `cache-<policy>` workloads: a Zipf key stream through one `Cache`. */
const CACHE = {
  keys: 100_000,
  capacity: 10_000,
  alpha: 0.9,
  /** Requests before the timed part (the cache fills and settles). */
  warmup: 200_000,
  /** Timed requests. */
  requests: 1_000_000,
  /** Requests per simulated second (Redis's LRU clock ticks once a second). */
  perSecond: 1000,
};

/** The eviction policies the cache workloads run, by workload name. */
const CACHE_POLICIES: Record<string, EvictionSpec> = {
  'cache-lru': { kind: 'lru' },
  'cache-fifo': { kind: 'fifo' },
  'cache-random': { kind: 'random' },
  'cache-lfu': { kind: 'lfu' },
  'cache-redis-lru': { kind: 'redis-lru', samples: 5 },
  'cache-redis-lfu': { kind: 'redis-lfu', samples: 5 },
  'cache-arc': { kind: 'arc' },
  'cache-w-tinylfu': { kind: 'w-tinylfu' },
};

interface CacheStream {
  keys: string[];
  /** Key indices, warm-up then timed part; the same for every policy. */
  stream: Int32Array;
  che: number;
  topC: number;
}
let cacheStream: CacheStream | undefined;

/** The key stream, drawn once (untimed) and shared by every policy and repeat. */
function sharedCacheStream(): CacheStream {
  if (cacheStream !== undefined) return cacheStream;
  const gen = createKeys({ kind: 'zipf', count: CACHE.keys, s: CACHE.alpha });
  const rng = new Simulation({ seed: 1 }).rng('bench/cache-keys');
  const stream = new Int32Array(CACHE.warmup + CACHE.requests);
  for (let i = 0; i < stream.length; i++) stream[i] = gen.nextIndex(rng);
  const keys = Array.from({ length: CACHE.keys }, (_, i) => gen.key(i));
  const p = zipfProbabilities(CACHE.keys, CACHE.alpha);
  cacheStream = {
    keys,
    stream,
    che: cheHitRatio(p, CACHE.capacity).hitRatio,
    topC: lfuHitRatio(p, CACHE.capacity).hitRatio,
  };
  return cacheStream;
}

/**
 * `cache-<policy>`: requests per second through a `Cache` of 10 000 entries with one eviction policy, on
 * a pre-drawn Zipf(0.9) stream over 100 000 keys. A request is a `get` and, on a miss, a `set` (read,
 * then fill). 200 000 untimed requests warm the cache; the 10^6 timed requests run 1000 per simulated
 * second (one event per second of requests). Prints the hit ratio of the timed part beside Che's LRU
 * estimate and the top-C optimum.
 */
function cacheBench(name: string): () => WorkloadLine & { run: () => void } {
  return () => {
    const { keys, stream, che, topC } = sharedCacheStream();
    const eviction = CACHE_POLICIES[name]!;
    const sim = new Simulation({ seed: 1 });
    const cache = new Cache<number>(sim, { capacity: CACHE.capacity, eviction });
    const drive = (from: number, to: number): void => {
      let next = from;
      const second = (): void => {
        const end = Math.min(to, next + CACHE.perSecond);
        for (let i = next; i < end; i++) {
          const key = keys[stream[i]!]!;
          if (cache.get(key) === undefined) cache.set(key, i);
        }
        next = end;
        if (next < to) sim.schedule(1000, second);
      };
      sim.schedule(0, second);
      sim.run();
    };
    drive(0, CACHE.warmup);
    const line = {
      workload: name,
      engine: 'dsim',
      ops: CACHE.requests,
      unit: 'requests' as const,
      policy: eviction.kind,
      hitRatio: 0,
      cheHitRatio: Number(che.toFixed(4)),
      topCHitRatio: Number(topC.toFixed(4)),
    };
    return {
      ...line,
      run: () => {
        const before = cache.stats.hits;
        drive(CACHE.warmup, CACHE.warmup + CACHE.requests);
        line.hitRatio = Number(((cache.stats.hits - before) / CACHE.requests).toFixed(4));
      },
      get hitRatio() {
        return line.hitRatio;
      },
    };
  };
}

/** The balancer policies the `lb-<policy>` workloads run, by workload name. */
const LB_POLICIES: Record<string, BalancerPolicySpec> = {
  'lb-round-robin': { kind: 'round-robin' },
  'lb-smooth-wrr': { kind: 'weighted-round-robin', scheduler: 'smooth' },
  'lb-random': { kind: 'random' },
  'lb-p2c': { kind: 'least-request', choiceCount: 2 },
  'lb-least-request-full-scan': { kind: 'least-request', fullScan: true },
  'lb-ring-hash': { kind: 'ring-hash' },
  'lb-maglev': { kind: 'maglev' },
  'lb-consistent-bounded': { kind: 'consistent-bounded', hashBalanceFactor: 125 },
  'lb-peak-ewma': { kind: 'peak-ewma' },
};

/**
 * `lb-<policy>`: 200 000 requests through an L7 `LoadBalancer` to 10 single-worker services (exponential
 * service, mean 1 ms) at 80% load, keyed by 10 000 uniform keys for the hash policies. Rate = requests
 * per second through the balancer (each is two RPCs: client to balancer, balancer to backend).
 */
function lbBench(name: string) {
  return (): WorkloadLine & { run: () => void } => {
    const requests = 200_000;
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim);
    const backends = Array.from({ length: 10 }, (_, i) => `app-${i}`);
    for (const b of backends) new Service(net.addNode(b), { serviceTime: exponential({ mean: 1 }) });
    new LoadBalancer(net.addNode('lb'), { backends, policy: LB_POLICIES[name]! });
    const client = new RpcEndpoint(net.addNode('client'));
    const gaps = exponential({ mean: 1 / 8 });
    const rng = sim.rng('client/arrivals');
    const keys = sim.rng('client/keys');
    let total = 0;
    let ok = 0;
    const line = {
      workload: name,
      engine: 'dsim',
      ops: requests,
      unit: 'requests' as const,
      meanLatency: 0,
      ok: 0,
    };
    const record = (e: { value: { ok: boolean; latency: number } | undefined }): void => {
      total += e.value!.latency;
      if (e.value!.ok) ok++;
    };
    let sent = 0;
    const arrive = (): void => {
      client.call('lb', sent, { key: `k${Math.floor(keys.next() * 10_000)}` }).onProcessed(record);
      if (++sent < requests) sim.schedule(gaps.sample(rng), arrive);
    };
    return {
      ...line,
      run: () => {
        arrive();
        sim.run();
        line.meanLatency = Number((total / requests).toFixed(4));
        line.ok = ok;
      },
      get meanLatency() {
        return line.meanLatency;
      },
      get ok() {
        return line.ok;
      },
    };
  };
}

/**
 * `kafka`: 100 000 records (200 B, keyed) produced at 20 000/s by an idempotent acks=all producer to a
 * topic of 6 partitions on 3 brokers with RF 3 and min.insync.replicas 2 (links 0.1 ms), and consumed
 * by a group of 3 consumers. Rate = records per second produced, replicated twice, and consumed;
 * `ok` = records consumed (each exactly once).
 */
function kafkaBench(): WorkloadLine & { run: () => void } {
  const records = 100_000;
  const sim = new Simulation({ seed: 1 });
  const net = new Network(sim, { defaults: { latency: 0.1 } });
  const cluster = new KafkaCluster(net, {
    brokers: ['b1', 'b2', 'b3'],
    topics: [{ name: 'events', partitions: 6, replicationFactor: 3, minInsyncReplicas: 2 }],
  });
  const producer = new KafkaProducer(net.addNode('producer'), { bootstrap: cluster.brokerIds });
  const source = clusterRecordSource(cluster);
  const coordinator = new GroupCoordinator(net.addNode('gc'));
  coordinator.usePartitionCounts((t) => source.partitionCount(t));
  let consumed = 0;
  const consumers = ['c1', 'c2', 'c3'].map(
    (a) =>
      new KafkaConsumer(net.addNode(a), {
        groupId: 'bench',
        topics: ['events'],
        coordinator: 'gc',
        source,
        autoOffsetReset: 'earliest',
        onRecord: () => {
          consumed++;
          if (consumed === records) sim.stop();
        },
      }),
  );
  const line = { workload: 'kafka', engine: 'dsim', ops: records, unit: 'messages' as const, ok: 0 };
  let sent = 0;
  const send = (): void => {
    producer.send({ topic: 'events', key: `k${sent % 1000}`, size: 200 });
    if (++sent < records) sim.schedule(0.05, send);
  };
  return {
    ...line,
    run: () => {
      sim.schedule(0, send);
      sim.run({ until: 600_000 });
      line.ok = consumed;
      void consumers;
    },
    get ok() {
      return line.ok;
    },
  };
}

/**
 * `amqp`: 200 000 messages (200 B) published at 20 000/s to one classic queue on an `AmqpBroker`,
 * consumed by 4 consumers with prefetch 50 and manual acks (links 0.1 ms). Rate = messages per second
 * published, confirmed, delivered and acked; `ok` = messages acked.
 */
function amqpBench(): WorkloadLine & { run: () => void } {
  const messages = 200_000;
  const sim = new Simulation({ seed: 1 });
  const net = new Network(sim, { defaults: { latency: 0.1 } });
  const broker = new AmqpBroker(net.addNode('rabbit'));
  broker.declareQueue('work');
  const publisher = new AmqpClient(net.addNode('publisher'), { broker: 'rabbit' });
  let acked = 0;
  for (let c = 0; c < 4; c++) {
    const consumer = new AmqpClient(net.addNode(`consumer-${c}`), { broker: 'rabbit' });
    consumer.consume('work', { prefetch: 50 }, (d) => {
      d.ack();
      if (++acked === messages) sim.stop();
    });
  }
  const line = { workload: 'amqp', engine: 'dsim', ops: messages, unit: 'messages' as const, ok: 0 };
  let sent = 0;
  const send = (): void => {
    publisher.publish('', 'work', sent, { size: 200 });
    if (++sent < messages) sim.schedule(0.05, send);
  };
  return {
    ...line,
    run: () => {
      sim.schedule(1, send);
      sim.run({ until: 600_000 });
      line.ok = acked;
    },
    get ok() {
      return line.ok;
    },
  };
}

/**
 * `sweep-1` and `sweep-all`: `dsim sweep mmc` over 4 server counts × 40 seeds (160 runs of 20 000
 * customers) on 1 worker thread and on every core. Rate = runs per second, thread start-up included;
 * the speed-up against the core count is in the notes.
 */
function sweepBench(workers: number | 'all') {
  return (): WorkloadLine & { run: () => Promise<void> } => {
    const n = workers === 'all' ? availableParallelism() : workers;
    const seeds = Array.from({ length: 40 }, (_, i) => i + 1);
    const line = {
      workload: workers === 'all' ? 'sweep-all' : `sweep-${workers}`,
      engine: 'dsim',
      ops: 160,
      unit: 'runs' as const,
      workers: n,
    };
    return {
      ...line,
      run: async () => {
        const r = await sweepInWorkers(
          'mmc',
          mmc,
          { seeds, grid: { servers: [2, 3, 4, 5] }, set: { lambda: 1.5, customers: 20_000 } },
          n,
        );
        if (r.runs !== 160) throw new Error(`sweep bench: ${r.runs} runs`);
      },
    };
  };
}

/**
 * `sweep-queue`: the `sweep-all` workload through a BullMQ queue on a local `redis-server` (Debian's;
 * skipped without it), served by one in-process `dsim worker` with a thread per core. Its time against
 * `sweep-all` is the queue's overhead per run (Redis round trips, job bookkeeping, the workers' 1 s
 * registry poll at the start).
 */
function sweepQueueBench(): WorkloadLine & { run: () => Promise<void> } {
  const line = {
    workload: 'sweep-queue',
    engine: 'dsim',
    ops: 160,
    unit: 'runs' as const,
    workers: availableParallelism(),
  };
  return {
    ...line,
    run: async () => {
      const port = 16_379;
      const redis = spawn(
        '/usr/bin/redis-server',
        ['--port', String(port), '--save', '', '--appendonly', 'no'],
        {
          stdio: 'ignore',
        },
      );
      try {
        await new Promise((r) => setTimeout(r, 300));
        const url = `redis://127.0.0.1:${port}/0`;
        const worker = await serveQueue(url, { concurrency: line.workers });
        try {
          const seeds = Array.from({ length: 40 }, (_, i) => i + 1);
          const r = await sweepOnQueue(
            'mmc',
            mmc,
            { seeds, grid: { servers: [2, 3, 4, 5] }, set: { lambda: 1.5, customers: 20_000 } },
            url,
          );
          if (r.runs !== 160) throw new Error(`sweep-queue bench: ${r.runs} runs`);
        } finally {
          await worker.close();
        }
      } finally {
        redis.kill('SIGKILL');
      }
    },
  };
}

/**
 * `topology-hour`: the 20-node topology (bench/topology.ts) for 60 simulated seconds (about 600 000
 * requests). Rate = client requests per wall second; the notes extrapolate the wall time of one
 * simulated hour and print the mean latency and digest, which must not change when only speed does.
 */
function topologyHour(): WorkloadLine & { run: () => void } {
  const seconds = 60;
  const run = buildTopology(seconds);
  // measure() reads the fields after run(), so run() fills them in on the object itself.
  const workload: WorkloadLine & { run: () => void } = {
    workload: 'topology-hour',
    engine: 'dsim',
    ops: 0,
    unit: 'requests',
    simulatedSeconds: seconds,
    run: () => {
      const r = run();
      Object.assign(workload, {
        ops: r.requests,
        meanLatency: Number(r.meanLatency.toFixed(4)),
        events: r.events,
        digest: r.digest,
        peakHeapMB: r.peakHeapMB,
        retainedHeapMB: r.retainedHeapMB,
        peakRunRssMB: r.peakRssMB,
      });
    },
  };
  return workload;
}

/**
 * `topology-ceiling`: the same topology and span as `topology-hour` as a bare hand-written loop
 * (bench/topology-ceiling.ts): no framework, no metrics. dsim cannot beat it; the gap is the price of the
 * network, RPC and service layers and of the metrics they record.
 */
function topologyCeiling(): WorkloadLine & { run: () => void } {
  const seconds = 60;
  const run = buildTopologyCeiling(seconds);
  const workload: WorkloadLine & { run: () => void } = {
    workload: 'topology-ceiling',
    engine: 'bare-loop',
    ops: 0,
    unit: 'requests',
    simulatedSeconds: seconds,
    run: () => {
      const r = run();
      Object.assign(workload, {
        ops: r.requests,
        meanLatency: Number(r.meanLatency.toFixed(4)),
        events: r.events,
      });
    },
  };
  return workload;
}

/**
 * `topology-linear`: the 20-node topology for 1, 10 and 60 simulated minutes, one line each: wall time
 * per request and peak heap should not grow with the span. Opt-in (`--only topology-linear`): the hour
 * alone is 36 million requests. Run once (no repeats).
 */
function topologyLinear(): Array<WorkloadLine & { seconds: number; rate: number }> {
  const out: Array<WorkloadLine & { seconds: number; rate: number }> = [];
  for (const minutes of [1, 10, 60]) {
    const run = buildTopology(minutes * 60);
    const t0 = performance.now();
    const r = run();
    const seconds = (performance.now() - t0) / 1000;
    sampleRss();
    out.push({
      workload: `topology-${minutes}m`,
      engine: 'dsim',
      ops: r.requests,
      unit: 'requests',
      seconds: Number(seconds.toFixed(2)),
      rate: Math.round(r.requests / seconds),
      microsecondsPerRequest: Number(((seconds * 1e6) / r.requests).toFixed(3)),
      peakHeapMB: r.peakHeapMB,
      peakRunRssMB: r.peakRssMB,
      retainedHeapMB: r.retainedHeapMB,
      meanLatency: Number(r.meanLatency.toFixed(4)),
      digest: r.digest,
    });
  }
  return out;
}

const workloads: Record<string, () => WorkloadLine & { run: () => void | Promise<void> }> = {
  'topology-hour': topologyHour,
  'topology-ceiling': topologyCeiling,
  'mm1-components': mm1Components,
  'retry-storm': retryStormRun,
  timeouts,
  mm1: mm1(false),
  'mm1-named': mm1(true),
  'heap-ceiling': heapCeiling,
  'ping-pong': pingPong(false),
  'ping-pong-traced': pingPong(true),
  ...Object.fromEntries(Object.keys(CACHE_POLICIES).map((name) => [name, cacheBench(name)] as const)),
  ...Object.fromEntries(Object.keys(LB_POLICIES).map((name) => [name, lbBench(name)] as const)),
  kafka: kafkaBench,
  amqp: amqpBench,
  'sweep-1': sweepBench(1),
  'sweep-all': sweepBench('all'),
  ...(existsSync('/usr/bin/redis-server') ? { 'sweep-queue': sweepQueueBench } : {}),
};

/**
 * Each workload's reference, measured in turns with it: one repeat of each, then the next, so a
 * machine that speeds up or slows down between invocations (shared machines drift by a third within
 * minutes) moves both alike and the ratio between them stays fair.
 */
const REFERENCES: Record<string, string> = { timeouts: 'heap-ceiling', 'topology-hour': 'topology-ceiling' };

/** Best of `repeat` runs of each of `names`, run in turns (a, b, a, b, ...). */
async function measure(...group: string[]): Promise<BenchLine[]> {
  const best: Array<BenchLine | undefined> = group.map(() => undefined);
  for (let i = 0; i < repeat; i++) {
    for (let k = 0; k < group.length; k++) {
      const w = workloads[group[k]!]!();
      const t0 = performance.now();
      await w.run();
      const seconds = (performance.now() - t0) / 1000;
      sampleRss();
      const { run: _run, ...rest } = w;
      const line: BenchLine = {
        ...rest,
        seconds: Number(seconds.toFixed(4)),
        rate: Math.round(w.ops / seconds),
      };
      const kept = best[k];
      if (kept === undefined || line.rate > kept.rate) best[k] = line;
    }
  }
  return best.map((line) => {
    line!.peakRssMB = Math.round(peakRss / 1e6);
    return line!;
  });
}

/** A workload's rate as a share of its reference's, measured in turns with it. */
function referenceNote(l: BenchLine, all: BenchLine[]): string {
  const reference = REFERENCES[l.workload];
  const ref = all.find((x) => x.workload === reference && x.engine === 'bare-loop');
  if (l.engine !== 'dsim' || ref === undefined) return '';
  return `${Math.round((100 * l.rate) / ref.rate)}% of ${reference}`;
}

/** On `sweep-all`: its speed-up over `sweep-1` against the number of cores; on `sweep-queue`, its overhead per run. */
function sweepNote(l: BenchLine, all: BenchLine[]): string {
  const one = all.find((x) => x.workload === 'sweep-1');
  const local = all.find((x) => x.workload === 'sweep-all');
  if (l.workload === 'sweep-queue' && local !== undefined)
    return `${l.workers} threads behind Redis: ${(((l.seconds - local.seconds) * 1000) / l.ops).toFixed(1)} ms more per run than sweep-all`;
  if (l.workload !== 'sweep-all' || one === undefined) return `${l.workers} worker thread(s)`;
  // From the times: the rates are rounded to whole runs per second.
  return `${l.workers} worker threads: ${(one.seconds / l.seconds).toFixed(2)}x one thread on ${l.workers} cores`;
}

function simpy(names: string[]): BenchLine[] {
  const python = '/usr/bin/python3';
  // Run from bench/.out (the bundled bench) or from bench/ itself.
  const here = dirname(fileURLToPath(import.meta.url));
  const script = join(here.endsWith('.out') ? dirname(here) : here, 'simpy_bench.py');
  const wanted = names.filter((n) => n === 'timeouts' || n === 'mm1' || n === 'topology-hour');
  if (values['no-simpy'] || wanted.length === 0 || !existsSync(python)) return [];
  const probe = spawnSync(python, ['-c', 'import simpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    process.stderr.write(
      'bench: SimPy not found (apt-get install python3-simpy3); skipping the side-by-side run\n',
    );
    return [];
  }
  const res = spawnSync(python, [script, ...wanted], { encoding: 'utf8' });
  if (res.status !== 0) {
    process.stderr.write(`bench: SimPy run failed: ${res.stderr}\n`);
    return [];
  }
  return res.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as BenchLine);
}

// `--only cache` stands for every cache-<policy> workload, `--only lb` for every lb-<policy> one.
const names = (values.only ?? Object.keys(workloads)).flatMap((n) =>
  n === 'cache'
    ? Object.keys(CACHE_POLICIES)
    : n === 'lb'
      ? Object.keys(LB_POLICIES)
      : n === 'sweep'
        ? ['sweep-1', 'sweep-all', ...('sweep-queue' in workloads ? ['sweep-queue'] : [])]
        : [n],
);
const SPECIAL = new Set(['topology-linear', 'rpc-costs']);
for (const n of names) {
  if (!(n in workloads) && !SPECIAL.has(n)) {
    const known = [...Object.keys(workloads), ...SPECIAL, 'cache', 'lb', 'sweep'];
    const near = didYouMean(n, known);
    process.stderr.write(
      `bench: unknown workload ${JSON.stringify(n)}${near === undefined ? '' : ` (did you mean ${JSON.stringify(near)}?)`}; known: ${known.join(', ')}\n`,
    );
    process.exit(2);
  }
}
const lines: BenchLine[] = [];
const done = new Set<string>();
for (const n of names) {
  if (n === 'rpc-costs') {
    const costs = measureRpcCosts();
    if (values.json) process.stdout.write(`${JSON.stringify({ workload: 'rpc-costs', ...costs })}\n`);
    else
      process.stdout.write(
        `rpc-costs: ${costs.eventsPerRpc} events and ${costs.bytesPerRpc} bytes allocated per RPC (Service, zero-latency network, metrics on); ` +
          `counter.inc ${costs.counterIncNs} ns, gauge.set ${costs.gaugeSetNs} ns, histogram.record ${costs.histogramRecordNs} ns\n`,
      );
    continue;
  }
  if (done.has(n)) continue;
  // A workload and its reference, both asked for, are measured in turns (see REFERENCES).
  const reference = REFERENCES[n] ?? Object.keys(REFERENCES).find((w) => REFERENCES[w] === n);
  const group = reference !== undefined && names.includes(reference) ? [n, reference] : [n];
  for (const g of group) done.add(g);
  const measured = n === 'topology-linear' ? (topologyLinear() as BenchLine[]) : await measure(...group);
  for (const line of measured) {
    lines.push(line);
    if (values.json) process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}
const simpyLines = simpy(names);
for (const line of simpyLines) {
  const ours = lines.find((l) => l.workload === line.workload);
  if (ours !== undefined) line.dsimSpeedup = Number((ours.rate / line.rate).toFixed(2));
  if (values.json) process.stdout.write(`${JSON.stringify(line)}\n`);
}
if (!values.json && lines.length > 0) {
  const all = [...lines, ...simpyLines];
  const rows = [['workload', 'engine', 'ops', 'seconds', 'rate/s', 'unit', 'notes']];
  for (const l of all) {
    const notes = [
      l.meanTimeInSystem !== undefined ? `W=${l.meanTimeInSystem} (theory ${l.theoryMeanTimeInSystem})` : '',
      l.meanLatency !== undefined
        ? `W=${l.meanLatency}${l.theoryMeanLatency === undefined ? ' ms' : ` (theory ${l.theoryMeanLatency})`}`
        : '',
      l.amplification !== undefined ? `amplification ${l.amplification}, ${l.events} events` : '',
      l.hitRatio !== undefined
        ? `hit ratio ${l.hitRatio} (Che LRU ${l.cheHitRatio}, top-C ${l.topCHitRatio})`
        : '',
      l.unit === 'messages' && l.ok !== undefined ? `${l.ok} of ${l.ops} consumed` : '',
      l.dsimSpeedup !== undefined ? `dsim is ${l.dsimSpeedup}x` : '',
      l.unit === 'runs' ? sweepNote(l, all) : '',
      l.workload === 'topology-hour' && l.engine === 'dsim'
        ? `one simulated hour in ${(36_000_000 / l.rate / 60).toFixed(1)} min, heap peak ${l.peakHeapMB} MB, ${l.retainedHeapMB} MB kept, RSS peak ${l.peakRunRssMB} MB`
        : '',
      l.microsecondsPerRequest !== undefined
        ? `${l.microsecondsPerRequest} µs per request, heap peak ${l.peakHeapMB} MB (garbage included), ${l.retainedHeapMB} MB kept at the end, RSS peak ${l.peakRunRssMB} MB`
        : '',
      referenceNote(l, all),
      l.peakRssMB !== undefined ? `peak RSS ${l.peakRssMB} MB` : '',
    ]
      .filter(Boolean)
      .join(', ');
    rows.push([
      l.workload,
      l.engine,
      String(l.ops),
      String(l.seconds),
      l.rate.toLocaleString('en-US'),
      l.unit,
      notes,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows)
    process.stdout.write(
      `${r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
}
