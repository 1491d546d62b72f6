/**
 * A span of `mm1-components` for tools/instr-profile.ts: an M/M/1 Service (lambda 0.9, mu 1) called
 * through RpcEndpoint, `process.argv[2]` requests; prints `{ units }`, the requests it made.
 */
import { Service } from '@dsim/components';
import { exponential, Network, RpcEndpoint, Simulation } from '@dsim/core';

const requests = Number(process.argv[2] ?? 200_000);
const sim = new Simulation({ seed: 1 });
const net = new Network(sim);
new Service(net.addNode('server'), { serviceTime: exponential({ mean: 1 }) });
const client = new RpcEndpoint(net.addNode('client'));
const gaps = exponential({ mean: 1 / 0.9 });
const rng = sim.rng('client/arrivals');
let sent = 0;
const record = (): void => {};
const arrive = (): void => {
  client.callThen('server', sent, undefined, record);
  if (++sent < requests) sim.schedule(gaps.sample(rng), arrive);
};
arrive();
sim.run();
console.log(JSON.stringify({ units: sent, digest: sim.digest() }));
