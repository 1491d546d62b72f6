import { Network, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { MeshProxy } from '../src/mesh/mesh-proxy.js';
import { ServiceMesh } from '../src/mesh/service-mesh.js';

const net = () => new Network(new Simulation({ seed: 1 }));

describe('mesh options are strict', () => {
  it('MeshProxy: unknown keys, bad values and missing figures name the field', () => {
    const n = net();
    expect(() => new MeshProxy(n, { address: 'p', preset: 'istio-1.12.3', wrokers: 2 } as never)).toThrow(
      /MeshProxy: unknown option "wrokers" \(did you mean "workers"\?\)/,
    );
    expect(() => new MeshProxy(n, { address: 'p', preset: 'istio-1.12' as never })).toThrow(
      /MeshProxy: preset must be one of "istio-1.3.5", "istio-1.12.3", .*got "istio-1.12" \(did you mean "istio-1.12.3"\?\)/,
    );
    expect(() => new MeshProxy(n, { address: 'p', preset: 'istio-1.12.3', workers: 0 })).toThrow(
      /MeshProxy: workers must be an integer >= 1, got 0/,
    );
    expect(() => new MeshProxy(n, { address: 'p', latency: 1 })).toThrow(/MeshProxy: cpuPerRequest/);
    expect(() => new MeshProxy(n, { address: 'p', cpuPerRequest: 1 })).toThrow(
      /MeshProxy: latency must be given when there is no preset/,
    );
    expect(
      () => new MeshProxy(n, { address: 'p', preset: 'istio-1.12.3', latency: { mean: 1 } as never }),
    ).toThrow(/MeshProxy: latency must be a distribution/);
    expect(
      () =>
        new MeshProxy(n, { address: 'p', preset: 'istio-1.12.3', connections: { idleTimout: 5 } as never }),
    ).toThrow(
      /MeshProxy: unknown option "connections.idleTimout" \(did you mean "connections.idleTimeout"\?\)/,
    );
    expect(
      () => new MeshProxy(n, { address: 'p', preset: 'istio-1.12.3', connections: { tlsRoundTrips: 0 } }),
    ).toThrow(/MeshProxy: connections.tlsRoundTrips must be an integer in \[1, 4\], got 0/);
    expect(() => new MeshProxy(n, { address: 'p', preset: 'istio-1.12.3', kind: 'ztunnel' })).toThrow(
      /MeshProxy: preset must be a ztunnel preset \(istio-1.24-ztunnel\), got "istio-1.12.3"/,
    );
  });

  it('an L4 proxy refuses L7 policy; routes check their application and endpoints', () => {
    const n = net();
    n.addNode('a-0');
    const z = new MeshProxy(n, { address: 'z', preset: 'istio-1.24-ztunnel', latency: 0 });
    z.attach('a-0');
    expect(() => z.route('a-0', 'b', [], { retry: { attempts: 1 } })).toThrow(
      /route\(a-0, b\).retry must be left out on an L4 route/,
    );
    expect(() => z.route('x-0', 'b', [])).toThrow(
      /route\(app\) must be an application attached to this proxy/,
    );
    expect(() => z.route('a-0', 'b', [{ proxy: {} as never, target: 'b-0' }])).toThrow(/endpoint must be a/);
    expect(() => z.gateway('b', [])).toThrow(/gateway\(service\)/);
  });

  it('ServiceMesh: profiles required per mode, waypoints only in ambient, hosts only in ambient', () => {
    expect(() => new ServiceMesh(net(), {})).toThrow(/ServiceMesh: sidecar must be given in sidecar mode/);
    expect(() => new ServiceMesh(net(), { mode: 'ambient' })).toThrow(
      /ServiceMesh: ztunnel must be given in ambient mode/,
    );
    expect(() => new ServiceMesh(net(), { sidecar: 'istio-1.24-ztunnel' })).toThrow(
      /ServiceMesh: sidecar.preset must be a sidecar preset/,
    );
    expect(() => new ServiceMesh(net(), { sidecar: 'istio-1.24-sidecar' })).toThrow(
      /ServiceMesh: sidecar.latency must be given: Istio publishes no added latency for preset "istio-1.24-sidecar"/,
    );
    expect(() => new ServiceMesh(net(), { sidecar: 'istio-1.12.3', ztunnel: 'istio-1.24-ztunnel' })).toThrow(
      /ServiceMesh: ztunnel must be left out in sidecar mode/,
    );
    expect(() => new ServiceMesh(net(), { sidecars: 'istio-1.12.3' } as never)).toThrow(
      /did you mean "sidecar"/,
    );
    const n = net();
    const sidecars = new ServiceMesh(n, { sidecar: 'istio-1.12.3' });
    expect(() => sidecars.addService('b', { waypoint: true })).toThrow(
      /addService\(b\).waypoint must be false in sidecar mode/,
    );
    expect(() => sidecars.addService('b', { retyr: {} } as never)).toThrow(
      /did you mean "addService\(b\).retry"/,
    );
    // Nested policy is checked where it is given, not when a route is first made.
    expect(() => sidecars.addService('x', { retry: { attempts: -1 } })).toThrow(
      /retry.attempts must be an integer >= 0, got -1/,
    );
    expect(() => sidecars.addService('x', { policy: { kind: 'round-robn' } as never })).toThrow(
      /did you mean/,
    );
    expect(() => sidecars.addService('x', { policy: { pick: () => 0 } as never })).toThrow(
      /addService\(x\).policy must be a policy spec/,
    );
    sidecars.addService('b');
    n.addNode('b-0');
    expect(() => sidecars.addInstance('b', 'b-0', { host: 'h' })).toThrow(
      /host must be left out in sidecar mode/,
    );
    expect(() => sidecars.addInstance('c', 'b-0')).toThrow(
      /addInstance\(service\) must be a service added with addService/,
    );
    expect(() => sidecars.route('b-0', 'b')).toThrow(/route\(app\) must be an instance in the mesh/);
    const m = net();
    const ambient = new ServiceMesh(m, {
      mode: 'ambient',
      ztunnel: { preset: 'istio-1.24-ztunnel', latency: 0 },
    });
    expect(() => ambient.addService('b', { retry: { attempts: 3 } })).toThrow(
      /addService\(b\).retry must be left out on an L4 route \(ztunnel has no per-request policy: give the service a waypoint/,
    );
    expect(() => ambient.addService('b', { waypoint: true })).toThrow(
      /ServiceMesh: waypoint must be given for a service with waypoint: true/,
    );
    ambient.addService('c');
    m.addNode('c-0');
    expect(() => ambient.addInstance('c', 'c-0')).toThrow(
      /addInstance\(options\).host must be a non-empty string/,
    );
  });
});
