import { exponential, Network, RpcEndpoint, type RpcResponse, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { LoadBalancer } from '../src/balancer/load-balancer.js';
import { DnsResolver } from '../src/discovery/dns-resolver.js';
import { DnsServer } from '../src/discovery/dns-server.js';
import { feedLoadBalancer } from '../src/discovery/endpoint-source.js';
import { EurekaClient } from '../src/discovery/eureka-client.js';
import { EurekaInstance } from '../src/discovery/eureka-instance.js';
import { EurekaServer } from '../src/discovery/eureka-server.js';
import { ReadinessProbe } from '../src/discovery/readiness-probe.js';
import { ServiceEndpoints } from '../src/discovery/service-endpoints.js';

const N = 8;
const END = 400_000;

type Stack = 'eureka' | 'kubernetes' | 'dns';

/**
 * N instances answering after an exponential 5 ms; each crashes and restarts at random times, one shuts
 * down gracefully, and the registry (or DNS server) is cut off for a minute. Requests arrive as a
 * Poisson stream at 20/s, through a balancer fed by discovery (Eureka, Kubernetes) or a resolver
 * lookup and a direct call (DNS). Returns how often each request was answered.
 */
function run(seed: number, stack: Stack) {
  const sim = new Simulation({ seed });
  const net = new Network(sim, { defaults: { latency: exponential({ mean: 0.5 }) } });
  const faults = sim.rng('test/faults');
  const pods: string[] = [];
  const stopped = new Set<string>();
  const service = exponential({ mean: 5 });
  for (let i = 0; i < N; i++) {
    const address = `app-${i}`;
    pods.push(address);
    const node = net.addNode(address);
    const rng = sim.rng(`test/service/${address}`);
    RpcEndpoint.of(node).serve((_req, reply) => {
      if (stopped.has(address)) reply.error('unavailable', 'connection refused');
      else node.setTimer(service.sample(rng), () => reply.ok(i));
    });
  }
  const caller = new RpcEndpoint(net.addNode('caller'));
  let shutdown: (address: string) => void;
  let registry: string;
  let lb: LoadBalancer | null = null;
  if (stack === 'eureka') {
    registry = 'eureka';
    new EurekaServer(net.addNode('eureka'), { selfPreservation: false });
    const instances = pods.map(
      (a) =>
        new EurekaInstance(net.node(a), {
          server: 'eureka',
          app: 'orders',
          startAfter: faults.next() * 30_000,
        }),
    );
    const client = new EurekaClient(net.addNode('web'), {
      server: 'eureka',
      app: 'orders',
      startAfter: 1000,
    });
    lb = new LoadBalancer(net.addNode('web-lb'), { backends: [], timeout: 1000 });
    feedLoadBalancer(client, lb);
    shutdown = (a) => {
      instances[pods.indexOf(a)]!.shutdown();
      stopped.add(a);
    };
  } else {
    const svc = new ServiceEndpoints(sim, { propagationDelay: 1000 });
    for (const a of pods)
      svc.addPod(
        a,
        new ReadinessProbe(net.addNode(`kubelet-${a}`), { target: a, startAfter: faults.next() * 10_000 }),
      );
    shutdown = (a) => svc.terminate(a, { onSigterm: () => stopped.add(a) });
    if (stack === 'kubernetes') {
      registry = 'kubelet-app-0'; // its probes fail: app-0 leaves the endpoints though it is alive
      lb = new LoadBalancer(net.addNode('kube-proxy'), {
        backends: [],
        timeout: 1000,
        policy: { kind: 'random' },
      });
      feedLoadBalancer(svc, lb);
    } else {
      registry = 'dns';
      new DnsServer(net.addNode('dns'), { records: { orders: svc }, ttl: '5s' });
    }
  }
  const resolver = stack === 'dns' ? new DnsResolver(caller.node, { server: 'dns', timeout: 1000 }) : null;
  let rr = 0;
  const send = (done: (ok: boolean) => void): void => {
    if (lb !== null) {
      caller.callThen(lb.endpoint.node.address, 'GET', {}, (res) => done(res.ok));
      return;
    }
    resolver!.resolve('orders', (addresses) => {
      if (addresses === null || addresses.length === 0) {
        done(false);
        return;
      }
      caller.callThen(addresses[rr++ % addresses.length]!, 'GET', { timeout: 1000 }, (res: RpcResponse) =>
        done(res.ok),
      );
    });
  };

  // Faults: every instance crashes once and restarts 10-100 s later; app-7 shuts down gracefully; the
  // registry (Eureka, the DNS server; app-0's kubelet) is cut off from everyone for a minute.
  for (const a of pods.slice(0, N - 1)) {
    const at = 60_000 + faults.next() * 250_000;
    sim.schedule(at, () => net.crash(a));
    sim.schedule(at + 10_000 + faults.next() * 90_000, () => net.restart(a));
  }
  sim.schedule(150_000, () => shutdown(pods[N - 1]!));
  sim.schedule(200_000, () => {
    const cut = net.isolate(registry);
    sim.schedule(60_000, () => cut.heal());
  });

  const answers: number[] = [];
  let ok = 0;
  let failed = 0;
  const gaps = exponential({ rate: 20 / 1000 });
  const arrivals = sim.rng('test/arrivals');
  const next = (): void => {
    if (sim.now >= END) return;
    const k = answers.length;
    answers.push(0);
    send((good) => {
      answers[k]!++;
      if (good) ok++;
      else failed++;
    });
    sim.schedule(gaps.sample(arrivals), next);
  };
  sim.schedule(0, next);
  sim.run({ until: END + 10_000 });
  return { answers, ok, failed, lb, stats: caller.stats };
}

describe('conservation: every request answered exactly once, across seeds, with crashes and partitions', () => {
  it.each<[Stack, number]>([
    ['eureka', 1],
    ['eureka', 2],
    ['eureka', 3],
    ['kubernetes', 1],
    ['kubernetes', 2],
    ['kubernetes', 3],
    ['dns', 1],
    ['dns', 2],
    ['dns', 3],
  ])('%s, seed %i', (stack, seed) => {
    const r = run(seed, stack);
    expect(r.answers.length).toBeGreaterThan(7000);
    expect(r.answers.every((n) => n === 1)).toBe(true);
    expect(r.ok + r.failed).toBe(r.answers.length);
    expect(r.failed).toBeGreaterThan(0); // the faults cost something
    expect(r.ok).toBeGreaterThan(r.failed);
    expect(r.stats.inFlight).toBe(0);
    expect(r.stats.sent).toBe(r.stats.ok + r.stats.failed);
    if (r.lb !== null) {
      const s = r.lb.stats;
      expect(s.inFlight).toBe(0);
      expect(s.requests).toBe(s.ok + s.failed + s.overloaded + s.noBackend);
      expect(s.requests).toBe(r.answers.length);
    }
  });
});
