import { Service } from '@dsim/components';
import {
  type Distribution,
  exponential,
  Network,
  type RandomStream,
  RpcEndpoint,
  type RpcResponse,
  type SimEvent,
} from '@dsim/core';
import { param } from '../params.js';
import { defineScenario } from '../scenario.js';
import { limitOffered, MAX_MS, MAX_OFFERED, MAX_RATE } from './limits.js';

/** Service time: `fastMs` usually, `slowMs` with probability `p` (a GC pause, a cold cache, a noisy neighbour). */
function bimodal(p: number, fastMs: number, slowMs: number): Distribution {
  return {
    kind: 'bimodal',
    mean: (1 - p) * fastMs + p * slowMs,
    sample: (rng: RandomStream) => (rng.next() < p ? slowMs : fastMs),
    describe: () => `bimodal(p=${p}, fast=${fastMs}, slow=${slowMs})`,
  };
}

/**
 * `tail-at-scale` (Dean and Barroso, "The Tail at Scale", 2013): a request fans out to `fanout` leaves
 * and completes when the slowest answers. Each leaf is slow with probability `pSlow`, so the share of slow
 * requests is 1 − (1 − p)^N: rare leaf hiccups become common request latency. Variant `hedged` sends a
 * second copy to a replica after `hedgeAfterMs` and takes whichever answers first.
 */
export const tailAtScale = defineScenario({
  name: 'tail-at-scale',
  description: 'Fan-out to N leaves: slow-request share against 1 - (1 - p)^N, with and without hedging',
  params: {
    fanout: param.integer({ default: 100, min: 1, max: 2000, description: 'leaves per request (N)' }),
    pSlow: param.number({ default: 0.01, min: 0, max: 1, description: 'probability a leaf is slow (p)' }),
    fastMs: param.number({ default: 10, min: 0, max: MAX_MS, description: 'leaf service time normally' }),
    slowMs: param.number({
      default: 1000,
      min: 0,
      max: MAX_MS,
      description: 'leaf service time when slow',
    }),
    requests: param.integer({
      default: 2000,
      min: 1,
      max: MAX_OFFERED,
      description: `fan-out requests (requests × fanout at most ${MAX_OFFERED} leaf calls)`,
    }),
    rate: param.number({
      default: 20,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description: 'requests per second',
    }),
    hedge: param.boolean({
      default: false,
      description: 'send a hedged copy to a replica after hedgeAfterMs',
    }),
    hedgeAfterMs: param.number({
      default: 50,
      min: 0,
      max: MAX_MS,
      description: 'delay before the hedged copy',
    }),
  },
  variants: [
    { name: 'plain', params: { hedge: false } },
    { name: 'hedged', params: { hedge: true } },
  ],
  run({ sim, params, requests, check }) {
    // At a high rate every request's leaf calls are in flight together.
    limitOffered(params.requests * params.fanout, 'requests × fanout', MAX_OFFERED, 'leaf calls');
    const net = new Network(sim, { defaults: { latency: 0.5 } });
    const leafTime = bimodal(params.pSlow, params.fastMs, params.slowMs);
    // Concurrency high enough that leaves never queue: the latency is the service-time draw alone.
    for (let i = 0; i < params.fanout; i++) {
      for (const replica of ['a', 'b'])
        new Service(net.addNode(`leaf${i}${replica}`), { concurrency: 10_000, serviceTime: leafTime });
    }
    const root = new RpcEndpoint(net.addNode('root'));
    const gaps = exponential({ rate: params.rate / 1000 });
    const rng = sim.rng('tail-at-scale/arrivals');
    const threshold = (params.fastMs + params.slowMs) / 2;
    let slow = 0;
    let leafCalls = 0;
    let done = 0;

    const callLeaf = (i: number): SimEvent<RpcResponse<unknown>> => {
      leafCalls++;
      const first = root.call(`leaf${i}a`, 'q');
      if (!params.hedge) return first;
      const answer = sim.event<RpcResponse<unknown>>();
      let hedged = false;
      first.onProcessed((e) => {
        if (!answer.triggered) answer.succeed(e.value!);
      });
      sim.schedule(params.hedgeAfterMs, () => {
        if (answer.triggered || hedged) return;
        hedged = true;
        leafCalls++;
        root.call(`leaf${i}b`, 'q').onProcessed((e) => {
          if (!answer.triggered) answer.succeed(e.value!);
        });
      });
      return answer;
    };

    sim.process(function* () {
      for (let r = 0; r < params.requests; r++) {
        sim.process(function* request() {
          const started = sim.now;
          requests.start();
          const calls = Array.from({ length: params.fanout }, (_, i) => callLeaf(i));
          yield sim.allOf(calls);
          const latency = sim.now - started;
          if (latency > threshold) slow++;
          done++;
          requests.finish(true, latency);
        });
        yield sim.timeout(gaps.sample(rng));
      }
    });
    sim.run();

    const measured = slow / done;
    const theory = 1 - (1 - params.pSlow) ** params.fanout;
    const se = Math.sqrt((theory * (1 - theory)) / done);
    if (!params.hedge) {
      check(
        'slow-request share matches 1 - (1 - p)^N',
        Math.abs(measured - theory) <= Math.max(5 * se, 0.005),
        `measured ${measured.toFixed(4)}, theory ${theory.toFixed(4)} (±${(5 * se).toFixed(4)}, 5 SE)`,
      );
    } else {
      // A hedged leaf is slow only if both copies are: p_h = p^2 (the copy starts later, but hedgeAfter << slowMs).
      const hedgedTheory = 1 - (1 - params.pSlow ** 2) ** params.fanout;
      check(
        'hedging cuts the slow share to about 1 - (1 - p^2)^N',
        measured <= hedgedTheory + Math.max(5 * Math.sqrt((hedgedTheory * (1 - hedgedTheory)) / done), 0.005),
        `measured ${measured.toFixed(4)}, bound ${hedgedTheory.toFixed(4)}`,
      );
    }
    return { slowShare: measured, theorySlowShare: theory, leafCallsPerRequest: leafCalls / done };
  },
  compare(variants) {
    const plain = variants.find((v) => v.name === 'plain');
    const hedged = variants.find((v) => v.name === 'hedged');
    if (!plain || !hedged) return [];
    return [
      {
        name: 'hedging lowers p99 latency for a few percent more leaf calls',
        pass:
          hedged.metrics.latencyMs.p99 < plain.metrics.latencyMs.p99 &&
          (hedged.outcome.leafCallsPerRequest as number) <
            (plain.outcome.leafCallsPerRequest as number) * 1.1,
        detail: `p99 ${plain.metrics.latencyMs.p99} -> ${hedged.metrics.latencyMs.p99} ms; leaf calls per request ${plain.outcome.leafCallsPerRequest} -> ${hedged.outcome.leafCallsPerRequest}`,
      },
    ];
  },
});
