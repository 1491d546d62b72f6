import { type BackoffSpec, createBackoff } from '@dsim/components';
import { type Distribution, Network, normal, type RandomStream } from '@dsim/core';
import { param } from '../params.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered } from './limits.js';

/**
 * Most client runs (clients × runs) of one variant: every run's network stays in the simulation, about
 * 5 KB per client, so this keeps a variant near 0.5 GB.
 */
const MAX_CLIENT_RUNS = 100_000;

/** Messages between the OCC clients and the server. */
type OccMessage =
  | { op: 'read' }
  | { op: 'write'; version: number }
  | { op: 'version'; version: number }
  | { op: 'result'; ok: boolean };

/** |Normal(10, 2)| ms per network hop, as in Brooker's simulator. */
function absNormal(mean: number, sd: number): Distribution {
  const inner = normal(mean, sd);
  return {
    kind: 'abs-normal',
    // |X| differs from X only when X < 0, which has probability ~3e-7 for (10, 2): the mean is 10 to 7 digits.
    mean,
    sample: (rng: RandomStream) => Math.abs(inner.sample(rng)),
    describe: () => `abs(normal(mean=${mean}, sd=${sd}))`,
  };
}

const STRATEGIES: Record<string, BackoffSpec> = {
  none: { kind: 'none' },
  exponential: { kind: 'exponential', baseMs: 5, capMs: 2000, jitter: 'none' },
  'equal-jitter': { kind: 'exponential', baseMs: 5, capMs: 2000, jitter: 'equal' },
  'full-jitter': { kind: 'exponential', baseMs: 5, capMs: 2000, jitter: 'full' },
  decorrelated: { kind: 'exponential', baseMs: 5, capMs: 2000, jitter: 'decorrelated' },
};

/**
 * The 100-client row of Brooker's simulator (github.com/aws-samples/aws-arch-backoff-simulator, 2015
 * version: 100 runs averaged per client count), run with Python's `random` seeded with 1 before its
 * sweep from 10 clients: calls / time (ms).
 */
export const BROOKER_100_CLIENTS: Readonly<Record<string, { calls: number; time: number }>> = {
  none: { calls: 2421, time: 2027 },
  exponential: { calls: 1853, time: 62862 },
  'equal-jitter': { calls: 812, time: 6658 },
  'full-jitter': { calls: 797, time: 4879 },
  decorrelated: { calls: 1002, time: 4530 },
};

/**
 * `backoff-jitter`: Brooker's experiment ("Exponential Backoff And Jitter", AWS Architecture Blog, 2015).
 * N clients each update one row of an optimistic-concurrency server once: read the version, write it
 * back conditionally; on a conflict back off and start over. Every hop takes |Normal(10, 2)| ms. Counted:
 * writes attempted at the server (`calls`, the work) and the time until the last client succeeds
 * (`timeMs`), averaged over `runs` independent runs. Each backoff strategy is a variant.
 */
export const backoffJitter = defineScenario({
  name: 'backoff-jitter',
  description: "Brooker's OCC experiment: work and completion time per backoff strategy",
  params: {
    clients: param.integer({
      default: 100,
      min: 1,
      max: 10_000,
      description: 'clients contending on one row',
    }),
    runs: param.integer({
      default: 30,
      min: 1,
      max: 1000,
      description: `independent runs averaged (clients × runs at most ${MAX_CLIENT_RUNS})`,
    }),
    strategy: param.enum(['none', 'exponential', 'equal-jitter', 'full-jitter', 'decorrelated'], {
      default: 'full-jitter',
      description: 'backoff strategy (each variant sets it)',
    }),
  },
  variants: Object.keys(STRATEGIES).map((name) => ({ name, params: { strategy: name as 'full-jitter' } })),
  run({ sim, params, requests }) {
    limitOffered(params.clients * params.runs, 'clients × runs', MAX_CLIENT_RUNS, 'client runs');
    const backoff = createBackoff(STRATEGIES[params.strategy]!);
    let totalCalls = 0;
    let totalTime = 0;
    for (let run = 0; run < params.runs; run++) {
      const started = sim.now;
      const net = new Network(sim, { name: `run${run}`, defaults: { latency: absNormal(10, 2) } });
      const server = net.addNode<OccMessage>('server');
      let version = 0;
      let calls = 0;
      let lastSuccess = started;
      server.onMessage((m) => {
        const p = m.payload;
        if (p.op === 'read') {
          server.send(m.from, { op: 'version', version });
        } else if (p.op === 'write') {
          calls++;
          const ok = p.version === version;
          if (ok) version++;
          server.send(m.from, { op: 'result', ok });
        }
      });
      for (let c = 0; c < params.clients; c++) {
        const node = net.addNode<OccMessage>(`c${c}`);
        const rng = sim.rng(`run${run}/c${c}/backoff`);
        let attempt = 0;
        let previous = 5;
        const began = sim.now;
        requests.start();
        node.onMessage((m) => {
          const p = m.payload;
          if (p.op === 'version') {
            node.send('server', { op: 'write', version: p.version });
          } else if (p.op === 'result' && p.ok) {
            lastSuccess = Math.max(lastSuccess, sim.now);
            requests.finish(true, sim.now - began);
          } else if (p.op === 'result') {
            attempt++;
            previous = backoff.delay(attempt, rng, previous);
            node.setTimer(previous, () => node.send('server', { op: 'read' }));
          }
        });
        node.send('server', { op: 'read' });
      }
      sim.run();
      totalCalls += calls;
      totalTime += lastSuccess - started;
    }
    return { calls: totalCalls / params.runs, timeMs: totalTime / params.runs };
  },
  compare(variants: readonly VariantResult[], params) {
    const v = (name: string) =>
      variants.find((x) => x.name === name)?.outcome as { calls: number; timeMs: number } | undefined;
    const [none, exp, equal, full, decorr] = [
      'none',
      'exponential',
      'equal-jitter',
      'full-jitter',
      'decorrelated',
    ].map(v);
    if (!none || !exp || !equal || !full || !decorr) return [];
    const checks = [
      {
        name: 'jitter does the least work: full and equal jitter < decorrelated < exponential < none',
        pass:
          Math.max(full.calls, equal.calls) < decorr.calls &&
          decorr.calls < exp.calls &&
          exp.calls < none.calls,
        detail: `calls: full ${full.calls.toFixed(0)}, equal ${equal.calls.toFixed(0)}, decorrelated ${decorr.calls.toFixed(0)}, exponential ${exp.calls.toFixed(0)}, none ${none.calls.toFixed(0)}`,
      },
      {
        name: 'completion time: none < decorrelated <~ full jitter < equal jitter << exponential',
        pass:
          none.timeMs < decorr.timeMs &&
          decorr.timeMs < full.timeMs * 1.15 &&
          full.timeMs < equal.timeMs &&
          equal.timeMs * 3 < exp.timeMs,
        detail: `time ms: none ${none.timeMs.toFixed(0)}, decorrelated ${decorr.timeMs.toFixed(0)}, full ${full.timeMs.toFixed(0)}, equal ${equal.timeMs.toFixed(0)}, exponential ${exp.timeMs.toFixed(0)}`,
      },
    ];
    if (params.clients === 100) {
      for (const x of variants) {
        const ref = BROOKER_100_CLIENTS[x.name]!;
        const o = x.outcome as { calls: number; timeMs: number };
        const callsErr = Math.abs(o.calls - ref.calls) / ref.calls;
        const timeErr = Math.abs(o.timeMs - ref.time) / ref.time;
        checks.push({
          name: `${x.name}: within 10% of Brooker's simulator at 100 clients`,
          pass: callsErr < 0.1 && timeErr < 0.1,
          detail: `calls ${o.calls.toFixed(0)} vs ${ref.calls} (${(100 * callsErr).toFixed(1)}%), time ${o.timeMs.toFixed(0)} vs ${ref.time} ms (${(100 * timeErr).toFixed(1)}%)`,
        });
      }
    }
    return checks;
  },
});
