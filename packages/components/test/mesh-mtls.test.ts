import type { RpcErrorKind } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import type { MeshConnectionOptions } from '../src/mesh/mesh-options.js';
import { chain } from './mesh-support.js';

/**
 * client-0 → s1-0 over 1 ms links, proxies with no CPU or latency per request (only the handshake
 * costs), a 2 ms service: a request takes 1 + 2 + 1 = 4 ms once its connection is open.
 */
function setup(connections: MeshConnectionOptions) {
  const c = chain({
    hops: 1,
    linkMs: 1,
    serviceMs: 2,
    mesh: { sidecar: { cpuPerRequest: 0, latency: 0 }, connections },
  });
  const answers: { at: number; latency: number; ok: boolean; kind?: RpcErrorKind }[] = [];
  const send = (): void => {
    const at = c.sim.now;
    c.send((ok, kind) =>
      answers.push({ at, latency: c.sim.now - at, ok, ...(kind === undefined ? {} : { kind }) }),
    );
  };
  const conn = () => c.mesh.proxyOf('client-0').connection('client-0', 's1', 's1-0')!;
  return { c, answers, send, conn };
}

describe('connection setup between proxies', () => {
  it('only the first request pays the handshake: TCP and TLS 1.3 round trips and both CPUs', () => {
    const { c, answers, send, conn } = setup({ handshakeCpu: 0.5 });
    c.sim.process(function* () {
      for (let i = 0; i < 100; i++) {
        send();
        yield c.sim.timeout(10);
      }
    });
    c.sim.run();
    // 2 round trips of 2 ms, 0.5 ms of CPU on each side: 5 ms more than the 4 ms of every later one.
    expect(answers[0]!.latency).toBeCloseTo(9, 9);
    for (const a of answers.slice(1)) expect(a.latency).toBeCloseTo(4, 9);
    expect(conn().stats).toMatchObject({ handshakes: 1, opened: 1, requests: 100, ok: 100, inFlight: 0 });
    expect(c.mesh.proxyOf('s1-0').stats.handshakesServed).toBe(1);
    // The hop's mesh time: the first request waited 5 ms for the connection, the others nothing.
    const hop = c.mesh.proxyOf('s1-0').hopLatency.summary();
    expect(hop.max).toBeCloseTo(5, 2);
    expect(hop.p90).toBe(0);
  });

  it('requests arriving during the handshake wait for the same connection', () => {
    const { c, answers, send, conn } = setup({ handshakeCpu: 0.5 });
    for (let i = 0; i < 10; i++) send();
    c.sim.run();
    expect(answers.map((a) => a.latency)).toEqual(new Array(10).fill(9));
    expect(conn().stats.handshakes).toBe(1);
  });

  it('without mTLS a connection costs TCP alone; TLS 1.2 costs one more round trip', () => {
    const plain = setup({ mtls: false, handshakeCpu: 0.5 });
    plain.send();
    plain.c.sim.run();
    expect(plain.answers[0]!.latency).toBeCloseTo(6, 9);
    expect(plain.c.mesh.proxyOf('s1-0').stats.handshakesServed).toBe(0);
    const tls12 = setup({ tlsRoundTrips: 2 });
    tls12.send();
    tls12.c.sim.run();
    expect(tls12.answers[0]!.latency).toBeCloseTo(4 + 3 * 2, 9);
  });

  it('an idle connection closes after idleTimeout: the next request pays again', () => {
    for (const [gap, handshakes] of [
      [200, 5],
      [50, 1],
    ] as const) {
      const { c, send, conn } = setup({ idleTimeout: 100 });
      c.sim.process(function* () {
        for (let i = 0; i < 5; i++) {
          send();
          yield c.sim.timeout(gap);
        }
      });
      c.sim.run();
      expect(conn().stats.handshakes, `gap ${gap}`).toBe(handshakes);
      expect(conn().stats.idleClosed, `gap ${gap}`).toBe(handshakes - 1);
    }
  });

  it('a crash of the remote proxy resets the connection; setups then fail on the connect timeout; a restart reconnects', () => {
    const { c, answers, send, conn } = setup({ connectTimeout: 100 });
    send(); // opens the connection: 4 ms
    c.sim.schedule(20, () => send());
    c.sim.schedule(21, () => c.net.crash('s1-0.sidecar'));
    c.sim.schedule(1000, () => c.net.restart('s1-0.sidecar'));
    c.sim.schedule(1100, () => send());
    c.sim.run();
    expect(answers.map((a) => a.ok)).toEqual([true, false, true]);
    // The reset at t=21 and Istio's 2 retries, each failing after the 100 ms connect timeout.
    expect(answers[1]!.kind).toBe('unavailable');
    expect(answers[1]!.latency).toBeGreaterThan(1 + 200);
    expect(answers[1]!.latency).toBeLessThan(1 + 200 + 2 * 250);
    expect(conn().stats).toMatchObject({
      broken: 1,
      handshakes: 4,
      opened: 2,
      handshakeFailures: 2,
      inFlight: 0,
    });
    const s = conn().stats;
    expect(s.requests).toBe(s.ok + s.failed + s.lost + s.inFlight);
  });
});
