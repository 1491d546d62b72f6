import { constant, exponential, Network, RpcEndpoint, type RpcErrorKind, Simulation } from '@dsim/core';
import { RetryingClient } from '../src/client/retrying-client.js';
import type { ServiceMeshOptions } from '../src/mesh/mesh-options.js';
import { ServiceMesh } from '../src/mesh/service-mesh.js';
import { Service } from '../src/service/service.js';

/** A chain `client-0 → s1-0 → … → s<hops>-0`, one instance each, in a mesh. */
export interface Chain {
  readonly sim: Simulation;
  readonly net: Network;
  readonly mesh: ServiceMesh;
  /** The services in order, the client first. */
  readonly names: string[];
  /** Sends one request from the client; `done(ok, kind?)` when it is answered. */
  send(done?: (ok: boolean, kind?: RpcErrorKind) => void): void;
}

export interface ChainOptions {
  hops?: number;
  seed?: number;
  mesh?: ServiceMeshOptions;
  /** Ambient mode: every instance on its own host. */
  serviceMs?: number;
  /** One-way network latency between nodes (constant), ms. */
  linkMs?: number;
  /** App-level retries at every caller (a RetryingClient with 1 + appRetries attempts). */
  appRetries?: number;
  /** Options of every service in the mesh (retry, timeout, waypoint…). */
  service?: Record<string, unknown>;
  /** A timeout per app-level attempt, ms. */
  appTimeout?: number;
}

/** Builds a chain of services in a mesh (see {@link Chain}). */
export function chain(options: ChainOptions = {}): Chain {
  const hops = options.hops ?? 2;
  const sim = new Simulation({ seed: options.seed ?? 1 });
  const net = new Network(sim, { defaults: { latency: constant(options.linkMs ?? 0) } });
  const mesh = new ServiceMesh(net, options.mesh ?? { sidecar: 'istio-1.12.3' });
  const names = ['client'];
  for (let i = 1; i <= hops; i++) names.push(`s${i}`);
  const ambient = mesh.mode === 'ambient';
  for (const name of names) {
    mesh.addService(name, options.service as never);
    net.addNode(`${name}-0`);
    mesh.addInstance(name, `${name}-0`, ambient ? { host: `host-${name}` } : undefined);
  }
  const retrying = (endpoint: RpcEndpoint) =>
    new RetryingClient(endpoint, {
      maxAttempts: 1 + (options.appRetries ?? 0),
      ...(options.appTimeout === undefined ? {} : { timeout: options.appTimeout }),
    });
  for (let i = names.length - 1; i >= 1; i--) {
    const name = names[i]!;
    const next = names[i + 1];
    new Service(net.node(`${name}-0`), {
      serviceTime: options.serviceMs === undefined ? exponential({ mean: 1 }) : constant(options.serviceMs),
      concurrency: 10_000,
      ...(next === undefined
        ? {}
        : { downstream: { calls: [mesh.route(`${name}-0`, next)], client: (e) => retrying(e) } }),
    });
  }
  const client = retrying(RpcEndpoint.of(net.node('client-0')));
  const entry = mesh.route('client-0', names[1]!);
  return {
    sim,
    net,
    mesh,
    names,
    send(done) {
      client.call(entry, 'req').onProcessed((e) => {
        const res = e.value!;
        done?.(res.ok, res.ok ? undefined : res.error.kind);
      });
    },
  };
}

/** Poisson arrivals at `perMs` per ms until `untilMs`, from stream `arrivals`. */
export function poisson(c: Chain, perMs: number, untilMs: number, onDone?: (ok: boolean) => void): void {
  const rng = c.sim.rng('arrivals');
  const gap = exponential({ mean: 1 / perMs });
  c.sim.process(function* () {
    while (true) {
      yield c.sim.timeout(gap.sample(rng));
      if (c.sim.now >= untilMs) return;
      c.send(onDone);
    }
  });
}
