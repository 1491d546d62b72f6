/**
 * `mm1-components`: M/M/1 from a `Service` and an RPC client (`callThen`) over a zero-latency network,
 * lambda 0.9 and mu 1 per ms (theory: mean latency 10 ms). Shared by `pnpm bench` and
 * tools/instr-profile.ts.
 */
import { Service } from '@dsim/components';
import { exponential, Network, RpcEndpoint, Simulation } from '@dsim/core';

/** What one run measured. */
export interface Mm1ComponentsRun {
  requests: number;
  meanLatency: number;
  digest: string;
}

/** Builds the model and returns a function that runs `requests` requests through it. */
export function buildMm1Components(requests: number, seed = 1): () => Mm1ComponentsRun {
  const sim = new Simulation({ seed });
  const net = new Network(sim);
  new Service(net.addNode('server'), { serviceTime: exponential({ mean: 1 }) });
  const client = new RpcEndpoint(net.addNode('client'));
  const gaps = exponential({ mean: 1 / 0.9 });
  const rng = sim.rng('client/arrivals');
  let total = 0;
  const record = (response: { latency: number }): void => {
    total += response.latency;
  };
  let sent = 0;
  const arrive = (): void => {
    client.callThen('server', sent, undefined, record);
    if (++sent < requests) sim.schedule(gaps.sample(rng), arrive);
  };
  return () => {
    arrive();
    sim.run();
    return { requests: sent, meanLatency: total / requests, digest: sim.digest() };
  };
}
