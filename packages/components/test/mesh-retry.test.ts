import { Network, RpcEndpoint, type RpcErrorKind, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { ISTIO_DEFAULT_RETRY, type ServiceMeshOptions } from '../src/mesh/mesh-options.js';
import { ServiceMesh } from '../src/mesh/service-mesh.js';
import { chain } from './mesh-support.js';

describe('retries in the mesh', () => {
  it('Istio default: 2 retries on connect failure, refused stream and 503; none on 500 or 504', () => {
    expect(ISTIO_DEFAULT_RETRY).toMatchObject({ attempts: 2, hostSelectionAttempts: 5, previousHosts: true });
    expect([...ISTIO_DEFAULT_RETRY.retryOn!]).toEqual(['unavailable', 'overloaded']);
  });

  it('app retries × mesh retries: (1 + 3) × (1 + 2) = 12 attempts per request at a dead backend, per hop', () => {
    for (const hops of [1, 2]) {
      const c = chain({ hops, appRetries: 3, serviceMs: 1 });
      const dead = `s${hops}-0`;
      c.net.crash(dead); // the application is down, its sidecar up: the sidecar answers 503 (UF)
      const kinds: (RpcErrorKind | undefined)[] = [];
      for (let i = 0; i < 20; i++) c.sim.schedule(i * 1000, () => c.send((_ok, kind) => kinds.push(kind)));
      c.sim.run();
      expect(kinds).toEqual(new Array(20).fill('unavailable'));
      const backend = c.mesh.proxyOf(dead).stats.inbound;
      const perRequest = 12 ** hops;
      expect(backend.requests, `hops ${hops}`).toBe(20 * perRequest);
      expect(backend.appDown).toBe(20 * perRequest);
      // Not additive: 1 + 3 + 2 attempts would be 6 per request per hop.
      expect(backend.requests).not.toBe(20 * 6 ** hops);
      // The last caller's sidecar: 3 attempts for each of the 4 its application makes per request.
      const caller = hops === 1 ? 'client-0' : `s${hops - 1}-0`;
      const lb = c.mesh.proxyOf(caller).cluster(caller, `s${hops}`)!.stats;
      expect(lb.requests).toBe(20 * 12 ** (hops - 1) * 4);
      expect(lb.attempts).toBe(3 * lb.requests);
    }
  });

  it('the mesh layer alone: attempts follow the retry policy', () => {
    for (const [service, perRequest] of [
      [{}, 3],
      [{ retry: false }, 1],
      [{ retry: { attempts: 4 } }, 5],
    ] as const) {
      const c = chain({ hops: 1, service, serviceMs: 1 });
      c.net.crash('s1-0');
      for (let i = 0; i < 10; i++) c.sim.schedule(i * 1000, () => c.send());
      c.sim.run();
      expect(c.mesh.proxyOf('s1-0').stats.inbound.requests, JSON.stringify(service)).toBe(10 * perRequest);
      const lb = c.mesh.proxyOf('client-0').cluster('client-0', 's1')!.stats;
      expect(lb.retries).toBe(10 * (perRequest - 1));
      expect(lb.attempts).toBe(10 * perRequest);
    }
  });

  it('which errors the default retries: 503 and connect failures, not 500 or 504', () => {
    const answersFor = (kind: Exclude<RpcErrorKind, 'timeout'>): number => {
      const sim = new Simulation({ seed: 1 });
      const net = new Network(sim);
      const mesh = new ServiceMesh(net, { sidecar: 'istio-1.12.3' });
      mesh.addService('a');
      mesh.addService('b');
      net.addNode('a-0');
      const b = net.addNode('b-0');
      mesh.addInstance('a', 'a-0');
      mesh.addInstance('b', 'b-0');
      let served = 0;
      new RpcEndpoint(b).serve((_req, reply) => {
        served++;
        reply.error(kind, 'failed');
      });
      const a = RpcEndpoint.of(net.node('a-0'));
      const toB = mesh.route('a-0', 'b');
      for (let i = 0; i < 5; i++) sim.schedule(i * 1000, () => a.callThen(toB, 'x', {}, () => {}));
      sim.run();
      return served / 5;
    };
    expect(answersFor('unavailable')).toBe(3);
    expect(answersFor('overloaded')).toBe(3);
    expect(answersFor('error')).toBe(1);
    expect(answersFor('gateway-timeout')).toBe(1);
    expect(answersFor('rejected')).toBe(1);
  });

  it('ambient: ztunnel (L4) never retries; a waypoint applies the default retries', () => {
    const mesh: ServiceMeshOptions = {
      mode: 'ambient',
      ztunnel: { preset: 'istio-1.24-ztunnel', latency: 0 },
      waypoint: { preset: 'istio-1.24-waypoint', latency: 0 },
    };
    for (const [waypoint, perRequest] of [
      [false, 4],
      [true, 12],
    ] as const) {
      const c = chain({ hops: 1, mesh, service: { waypoint }, appRetries: 3, serviceMs: 1 });
      c.net.crash('s1-0');
      for (let i = 0; i < 10; i++) c.sim.schedule(i * 1000, () => c.send());
      c.sim.run();
      // The ztunnel of s1's host delivers (or finds the application down) for every attempt.
      expect(c.mesh.proxyOf('s1-0').stats.inbound.appDown, `waypoint ${waypoint}`).toBe(10 * perRequest);
    }
  });
});
