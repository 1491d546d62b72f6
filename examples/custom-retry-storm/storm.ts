// A retry storm in under 40 lines: two replicas, a client that retries timeouts at once, a 3 s pause.
// `shed`: servers serve newest first and skip work whose caller has given up (LIFO + drop expired).
import { openLoop, RetryingClient, Service } from '@dsim/components';
import { exponential, Network, RpcEndpoint, Simulation, scheduleFaults } from '@dsim/core';

export function storm(seed: number, shed: boolean): number[] {
  const sim = new Simulation({ seed });
  const net = new Network(sim, { defaults: { latency: exponential({ mean: 1 }) } });
  const options = {
    concurrency: 4,
    serviceTime: exponential({ mean: 50 }),
    dropExpired: shed,
    discipline: shed ? 'lifo' : 'fifo',
  } as const;
  for (const r of ['r1', 'r2']) new Service(net.addNode(r), options);
  let next = 0; // round robin over the replicas, attempt by attempt
  const client = new RetryingClient(new RpcEndpoint(net.addNode('client')), {
    timeout: 500,
    maxAttempts: 4, // the first try and 3 immediate retries
    target: () => (next++ % 2 ? 'r1' : 'r2'),
  });
  const okPerSecond = new Array<number>(60).fill(0);
  openLoop(sim, {
    arrivals: { kind: 'poisson', rate: 110 }, // 110 requests/s against 160/s of capacity
    until: '60s',
    onArrival: () =>
      client.call('replicas', 'GET').onProcessed((e) => {
        if (e.value!.ok) okPerSecond[Math.min(59, Math.floor(sim.now / 1000))]!++;
      }),
  });
  scheduleFaults(net, [
    { at: '20s', for: '3s', fault: { kind: 'pause', node: 'r1' } },
    { at: '20s', for: '3s', fault: { kind: 'pause', node: 'r2' } },
  ]);
  sim.run();
  return okPerSecond;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const drop of [false, true]) {
    const ok = storm(1, drop);
    process.stdout.write(`shed=${drop}: ok/s at 10s ${ok[10]}, 40s ${ok[40]}, 55s ${ok[55]}\n`);
  }
}
