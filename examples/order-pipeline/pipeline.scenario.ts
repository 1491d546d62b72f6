/**
 * An order pipeline with a dead-letter queue. Orders are published to a topic exchange as
 * `order.created.<region>`; a replicated quorum queue `billing` (3 brokers) takes them all, and three
 * workers bill them. Some orders fail once and succeed when redelivered; poison orders always fail. A
 * worker that fails nacks with requeue, so the quorum queue's delivery limit moves a poison order to
 * the dead-letter exchange after `deliveryLimit` + 1 deliveries, and the queue keeps flowing.
 *
 *   pnpm dsim run examples/order-pipeline/pipeline.scenario.ts --seed 1
 */
import { AmqpBroker, AmqpClient } from '@dsim/components';
import { exponential, Network } from '@dsim/core';
import { defineScenario, param } from '@dsim/scenarios';

const BROKERS = ['rabbit-1', 'rabbit-2', 'rabbit-3'];

export default defineScenario({
  name: 'order-pipeline',
  description: 'Orders through a topic exchange to a quorum queue; poison orders end in a dead-letter queue',
  params: {
    orders: param.integer({ default: 2000, min: 1, max: 1_000_000, description: 'orders, one every 5 ms' }),
    flaky: param.number({
      default: 0.05,
      min: 0,
      max: 1,
      description: 'share that fails once, then succeeds',
    }),
    poison: param.number({ default: 0.01, min: 0, max: 1, description: 'share that always fails' }),
    deliveryLimit: param.integer({
      default: 20,
      min: 0,
      max: 1000,
      description: "the queue's delivery limit",
    }),
  },
  run({ sim, params, requests, check }) {
    const net = new Network(sim, { defaults: { latency: 0.5 } });
    const brokers = BROKERS.map((b) => new AmqpBroker(net.addNode(b), { cluster: BROKERS }));
    for (const broker of brokers) {
      broker.declareExchange('orders', { type: 'topic' });
      broker.declareExchange('orders.dlx', { type: 'fanout' });
      broker.declareQueue('billing', {
        type: 'quorum',
        deadLetterExchange: 'orders.dlx',
        deliveryLimit: params.deliveryLimit,
      });
      broker.declareQueue('orders.dead');
      broker.bind('billing', 'orders', 'order.created.*');
      broker.bind('orders.dead', 'orders.dlx', '');
    }
    const rng = sim.rng('orders');
    const kind = new Map<number, 'good' | 'flaky' | 'poison'>();
    const billed = new Map<number, number>();
    const dead: number[] = [];
    for (let w = 0; w < 3; w++) {
      const worker = new AmqpClient(net.addNode(`worker-${w}`), { broker: 'rabbit-1' });
      worker.consume('billing', { prefetch: 10, processingTime: exponential({ mean: 10 }) }, (d) => {
        const id = d.body as number;
        const k = kind.get(id)!;
        if (k === 'poison' || (k === 'flaky' && !d.redelivered)) return d.nack({ requeue: true });
        billed.set(id, (billed.get(id) ?? 0) + 1);
        requests.finish(true, sim.now - d.publishedAt);
        d.ack();
      });
    }
    const auditor = new AmqpClient(net.addNode('auditor'), { broker: 'rabbit-1' });
    auditor.consume('orders.dead', {}, (d) => {
      dead.push(d.body as number);
      requests.finish(false, sim.now - d.publishedAt);
      d.ack();
    });
    const api = new AmqpClient(net.addNode('api'), { broker: 'rabbit-1' });
    for (let id = 0; id < params.orders; id++)
      sim.schedule(100 + 5 * id, () => {
        const u = rng.next();
        kind.set(id, u < params.poison ? 'poison' : u < params.poison + params.flaky ? 'flaky' : 'good');
        requests.start();
        api.publish('orders', `order.created.${['eu', 'us', 'ap'][id % 3]}`, id, { persistent: true });
      });
    sim.run({ until: 100 + 5 * params.orders + 60_000 });

    const poison = [...kind].filter(([, k]) => k === 'poison').map(([id]) => id);
    const twice = [...billed.values()].filter((n) => n > 1).length;
    check(
      'every good or flaky order billed exactly once',
      billed.size === params.orders - poison.length && twice === 0,
      `${billed.size} billed (${twice} more than once) of ${params.orders - poison.length}`,
    );
    check(
      'every poison order dead-lettered, nothing else',
      dead.length === poison.length && dead.every((id) => kind.get(id) === 'poison'),
      `${dead.length} dead-lettered, ${poison.length} poison`,
    );
    const stats = brokers[0]!.stats;
    return {
      billed: billed.size,
      poison: poison.length,
      deadLettered: dead.length,
      deliveryLimitDeaths: stats.deadLettered.delivery_limit,
      redelivered: stats.redelivered,
    };
  },
});
