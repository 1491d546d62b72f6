import { AmqpBroker, AmqpClient } from '@dsim/components';
import { constant, Network, type SimEvent, uniform } from '@dsim/core';
import { param } from '../params.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { MAX_MS } from './limits.js';

/** The most messages one burst may hold. */
const MAX_MESSAGES = 1_000_000;

/**
 * What the fluid model predicts for a burst of `messages` shared by a fast and a slow consumer with
 * the same prefetch over links of one-way latency `latencyMs`.
 *
 * A consumer holding `prefetch` unacknowledged deliveries gets the next one only after an ack reaches
 * the broker, so it runs at `min(1 / processMs, prefetch / (processMs + 2 × latencyMs))`: never idle
 * once `prefetch >= 1 + rtt / processMs`, the sizing rule RabbitMQ's guidance gives. While messages are
 * ready each consumer takes them at its own rate; once none are left each finishes the `prefetch`
 * it holds. With `messages <= 2 × prefetch` the burst is dealt out round robin at once, half each.
 *
 * @param messages - the burst, all published at time 0
 * @param prefetch - each consumer's `basic.qos` prefetch count, >= 1
 * @returns the deliveries each consumer gets and when the last message is done, in ms
 * @example
 * ```ts
 * prefetchBurstTheory({ messages: 1100, prefetch: 1, fastMs: 100, slowMs: 1000, latencyMs: 0 });
 * // { fast: 999, slow: 101, finishMs: 100_818, ... }: the fast consumer takes 10/11 of the work
 * ```
 */
export function prefetchBurstTheory(model: {
  messages: number;
  prefetch: number;
  fastMs: number;
  slowMs: number;
  latencyMs: number;
}): { fast: number; slow: number; fastShare: number; finishMs: number; fastRate: number; slowRate: number } {
  const { messages: n, prefetch: p, fastMs, slowMs, latencyMs: l } = model;
  const rtt = 2 * l;
  const fastRate = Math.min(1 / fastMs, p / (fastMs + rtt));
  const slowRate = Math.min(1 / slowMs, p / (slowMs + rtt));
  if (n <= 2 * p) {
    // Dealt round robin at once; each works through its half back to back.
    const slow = Math.floor(n / 2);
    const fast = n - slow;
    const finishMs = l + Math.max(fast * fastMs, slow * slowMs);
    return { fast, slow, fastShare: fast / n, finishMs, fastRate, slowRate };
  }
  const t1 = (n - 2 * p) / (fastRate + slowRate);
  const fast = p + fastRate * t1;
  const slow = n - fast;
  // After the ready queue empties each consumer still holds `prefetch` deliveries.
  const finishMs = l + t1 + Math.max(p * slowMs, p * fastMs);
  return { fast, slow, fastShare: fast / n, finishMs, fastRate, slowRate };
}

/**
 * `prefetch`: RabbitMQ consumers of unequal speed sharing one queue, and what `basic.qos` prefetch does
 * to the split, the completion time and the latency. A burst of messages is published at once to a
 * classic queue read by a fast and a slow consumer (processing times uniform within ±`jitter` of their
 * means), with the same
 * prefetch, over links of a given latency; the outcome is compared with {@link prefetchBurstTheory}.
 */
export const prefetch = defineScenario({
  name: 'prefetch',
  description:
    'RabbitMQ prefetch with a fast and a slow consumer: the share each gets, completion time and latency against the fluid model',
  params: {
    messages: param.integer({
      default: 1100,
      min: 2,
      max: MAX_MESSAGES,
      description: 'messages published at once at time 0',
    }),
    prefetch: param.integer({
      default: 1,
      min: 1,
      max: MAX_MESSAGES,
      description: "each consumer's basic.qos prefetch count",
    }),
    fastMs: param.number({
      default: 100,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: "the fast consumer's processing time per message (constant)",
    }),
    slowMs: param.number({
      default: 1000,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: "the slow consumer's processing time per message (constant)",
    }),
    jitter: param.number({
      default: 0.05,
      min: 0,
      max: 0.5,
      description:
        'processing times are drawn uniformly within ± this fraction of fastMs / slowMs (0: constant, the outcome is then exact)',
    }),
    latencyMs: param.number({
      default: 0,
      min: 0,
      max: MAX_MS,
      description: 'one-way network latency between the broker and every client',
    }),
  },
  variants: [
    {
      name: 'prefetch-1',
      description: 'prefetch 1: each consumer takes work as it frees up',
      params: { prefetch: 1 },
    },
    {
      name: 'prefetch-1000',
      description: 'a large prefetch: the burst is dealt out round robin at once, whatever the speeds',
      params: { prefetch: 1000 },
    },
    {
      name: 'prefetch-1-far',
      description: 'prefetch 1 over 50 ms links: every message waits a round trip for the ack',
      params: { prefetch: 1, latencyMs: 50 },
    },
    {
      name: 'prefetch-10-far',
      description: 'prefetch 10 over 50 ms links: enough deliveries in hand to cover the round trip',
      params: { prefetch: 10, latencyMs: 50 },
    },
  ],
  run({ sim, params, requests, check }) {
    const { messages, fastMs, slowMs, latencyMs, jitter } = params;
    const net = new Network(sim, { defaults: { latency: latencyMs } });
    const broker = new AmqpBroker(net.addNode('rabbit'));
    broker.declareQueue('work');
    const producer = new AmqpClient(net.addNode('producer'), { broker: 'rabbit' });
    const counts = { fast: 0, slow: 0 };
    let lastDone = 0;
    let done = 0;
    let duplicates = 0;
    const registered: SimEvent<unknown>[] = [];
    const work = (ms: number) =>
      jitter === 0 ? constant(ms) : uniform(ms * (1 - jitter), ms * (1 + jitter));
    const seen = new Uint8Array(messages);
    for (const [who, ms] of [
      ['fast', fastMs],
      ['slow', slowMs],
    ] as const) {
      const client = new AmqpClient(net.addNode(`consumer-${who}`), { broker: 'rabbit' });
      const consumer = client.consume(
        'work',
        { prefetch: params.prefetch, processingTime: work(ms) },
        (delivery) => {
          const i = delivery.body as number;
          if (seen[i] === 1) duplicates++;
          seen[i] = 1;
          counts[who]++;
          done++;
          lastDone = sim.now;
          requests.finish(true, sim.now - delivery.publishedAt);
          delivery.ack();
          // Heartbeats tick forever: the run ends with the burst (after the last ack reaches the broker).
          if (done === messages) sim.schedule(latencyMs + 1, () => sim.stop());
        },
      );
      registered.push(consumer.ready);
    }
    // The burst goes out once both consumers are registered: a consumer that registers after the
    // burst is queued takes a whole prefetch window of it at once.
    let startedAt = 0;
    sim.process(function* () {
      for (const ready of registered) yield ready;
      startedAt = sim.now;
      for (let i = 0; i < messages; i++) {
        requests.start();
        producer.publish('', 'work', i);
      }
    });
    // A bound in case the burst never finishes (a check then says so): ten times the slowest schedule.
    sim.run({ until: 10 * (messages * slowMs + 2 * latencyMs + 1000) });

    const theory = prefetchBurstTheory({ ...params });
    const share = counts.fast / messages;
    const stats = broker.stats;
    check(
      'every message processed exactly once and acked',
      done === messages && duplicates === 0 && stats.acked === messages && stats.redelivered === 0,
      `${done} processed of ${messages}, ${duplicates} twice, ${stats.acked} acked, ${stats.redelivered} redelivered`,
    );
    // The fluid model rounds at the two phase ends: a delivery in flight at each, per consumer.
    const countTol = 2 + 0.005 * messages;
    check(
      'the fast consumer gets the share the fluid model predicts',
      Math.abs(counts.fast - theory.fast) <= countTol,
      `fast ${counts.fast}, slow ${counts.slow} (fast share ${(100 * share).toFixed(2)}%); theory ${theory.fast.toFixed(1)} (${(100 * theory.fastShare).toFixed(2)}%), tolerance ±${countTol.toFixed(1)} messages`,
    );
    // One slow message either way, plus the broker's own per-operation costs (well under 1%); the
    // jitter's noise on a sum of hundreds of messages is a small part of that.
    const timeTol = slowMs + 0.01 * theory.finishMs;
    check(
      'the burst is done when the fluid model says',
      Math.abs(lastDone - startedAt - theory.finishMs) <= timeTol,
      `last message done ${((lastDone - startedAt) / 1000).toFixed(2)} s after the burst; theory ${(theory.finishMs / 1000).toFixed(2)} s, tolerance ±${(timeTol / 1000).toFixed(2)} s`,
    );
    return {
      fast: counts.fast,
      slow: counts.slow,
      fastShare: share,
      theoryFast: theory.fast,
      theoryFastShare: theory.fastShare,
      speedShare: slowMs / (fastMs + slowMs),
      finishS: (lastDone - startedAt) / 1000,
      theoryFinishS: theory.finishMs / 1000,
      throughputPerS: (1000 * messages) / (lastDone - startedAt),
      fastRatePerS: 1000 * theory.fastRate,
      slowRatePerS: 1000 * theory.slowRate,
    };
  },
  compare(variants: readonly VariantResult[]) {
    const get = (name: string) => variants.find((v) => v.name === name)?.outcome;
    const one = get('prefetch-1');
    const large = get('prefetch-1000');
    const far = get('prefetch-1-far');
    const farTen = get('prefetch-10-far');
    const checks = [];
    if (one !== undefined && large !== undefined)
      checks.push({
        name: 'prefetch 1 finishes the burst sooner than a large prefetch (the slow consumer holds less)',
        pass: (one.finishS as number) < (large.finishS as number),
        detail: `prefetch 1: ${(one.finishS as number).toFixed(1)} s (fast share ${(100 * (one.fastShare as number)).toFixed(1)}%); prefetch 1000: ${(large.finishS as number).toFixed(1)} s (${(100 * (large.fastShare as number)).toFixed(1)}%)`,
      });
    if (far !== undefined && farTen !== undefined)
      checks.push({
        name: 'over a slow link, a prefetch covering the round trip restores the throughput',
        pass: (farTen.throughputPerS as number) > (far.throughputPerS as number),
        detail: `prefetch 1: ${(far.throughputPerS as number).toFixed(2)} msg/s; prefetch 10: ${(farTen.throughputPerS as number).toFixed(2)} msg/s`,
      });
    return checks;
  },
});
