/**
 * Three replicas behind two clients. Ten seconds in, client c1 is cut off from two of the three
 * replicas for ten seconds; it keeps trying them in turn with a 200 ms timeout. What did each client see?
 *
 *   pnpm dsim run examples/partition-demo/partition.scenario.ts --seed 1
 *   pnpm dsim run examples/partition-demo/partition.scenario.ts --seed 1 --trace trace.json   # open in ui.perfetto.dev
 */
import { exponential, Network, RpcEndpoint, type RpcResponse, scheduleFaults } from '@dsim/core';
import { defineScenario, param } from '@dsim/scenarios';

const SECOND = 1000;

export default defineScenario({
  name: 'partition-demo',
  description: 'Clients calling three replicas while a partition cuts one client off from two of them',
  params: {
    seconds: param.integer({ default: 30, min: 21, description: 'simulated seconds' }),
    timeoutMs: param.number({ default: 200, min: 1, description: 'client timeout per call' }),
    rate: param.number({
      default: 20,
      min: 0,
      exclusiveMin: true,
      description: 'calls per second per client',
    }),
  },
  run({ sim, params, requests, check }) {
    const net = new Network(sim, { defaults: { latency: exponential({ mean: 2 }) } });
    const replicas = ['r1', 'r2', 'r3'];
    for (const name of replicas) {
      const node = net.addNode(name);
      const work = exponential({ mean: 10 });
      const rng = sim.rng(`${name}/work`);
      new RpcEndpoint(node).serve((req, reply) =>
        node.setTimer(work.sample(rng), () => reply.ok(`${name}:${String(req.payload)}`)),
      );
    }
    const seconds = params.seconds;
    // seen[client][second] = [ok, failed]
    const seen: Record<string, Array<[number, number]>> = {};
    for (const name of ['c1', 'c2']) {
      const client = new RpcEndpoint(net.addNode(name));
      const perSecond = Array.from({ length: seconds }, (): [number, number] => [0, 0]);
      seen[name] = perSecond;
      const gaps = exponential({ mean: SECOND / params.rate });
      const rng = sim.rng(`${name}/arrivals`);
      let next = 0;
      sim.process(function* () {
        while (sim.now < seconds * SECOND) {
          const target = replicas[next++ % replicas.length]!;
          requests.start();
          const started = sim.now;
          client.call(target, 'GET', { timeout: params.timeoutMs }).onProcessed((e) => {
            const res = e.value as RpcResponse;
            requests.finish(res.ok, sim.now - started);
            const bucket = perSecond[Math.min(seconds - 1, Math.floor(started / SECOND))]!;
            bucket[res.ok ? 0 : 1]++;
          });
          yield sim.timeout(gaps.sample(rng));
        }
      });
    }
    scheduleFaults(net, [
      { at: 10 * SECOND, for: 10 * SECOND, fault: { kind: 'partition', a: 'c1', b: ['r2', 'r3'] } },
    ]);
    sim.run();

    const share = (client: string, from: number, to: number): number => {
      const rows = seen[client]!.slice(from, to);
      const ok = rows.reduce((a, r) => a + r[0], 0);
      const all = rows.reduce((a, r) => a + r[0] + r[1], 0);
      return all === 0 ? 1 : ok / all;
    };
    const outcome = {
      c1Before: share('c1', 0, 10),
      c1During: share('c1', 10, 20),
      c1After: share('c1', 21, seconds),
      c2During: share('c2', 10, 20),
      c1OkPerSecond: seen.c1!.map((r) => r[0]).join(' '),
      c1FailedPerSecond: seen.c1!.map((r) => r[1]).join(' '),
    };
    // With round robin over three replicas and two unreachable, about a third of c1's calls succeed.
    check(
      'c1 loses about two thirds of its calls during the partition',
      Math.abs(outcome.c1During - 1 / 3) < 0.1,
      `${outcome.c1During.toFixed(3)} ok`,
    );
    check('c2 is unaffected', outcome.c2During > 0.99, `${outcome.c2During.toFixed(3)} ok`);
    check('c1 recovers after the heal', outcome.c1After > 0.99, `${outcome.c1After.toFixed(3)} ok`);
    return outcome;
  },
});
