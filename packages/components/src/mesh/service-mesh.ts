import {
  checkBoolean,
  checkEnum,
  checkName,
  checkObject,
  checkOptions,
  invalidArgument,
  invalidOption,
  type Network,
  nested,
  optionKeys,
} from '@dsim/core';
import { isPolicyObject, resolveCluster, resolveConnections, resolveMeshProfile } from './mesh-config.js';
import type {
  MeshClusterOptions,
  MeshConnectionOptions,
  MeshInstanceOptions,
  MeshMode,
  MeshProfile,
  MeshServiceOptions,
  ServiceMeshOptions,
} from './mesh-options.js';
import { type MeshEndpoint, MeshProxy } from './mesh-proxy.js';
import type { MeshProxyKind } from './proxy-presets.js';

const C = 'ServiceMesh';

const MESH_KEYS = optionKeys<ServiceMeshOptions>()({
  mode: true,
  sidecar: true,
  ztunnel: true,
  waypoint: true,
  connections: true,
});

const SERVICE_KEYS = ['waypoint'];

const INSTANCE_KEYS = optionKeys<MeshInstanceOptions>()({ host: true });

interface ServiceEntry {
  readonly name: string;
  readonly cluster: MeshClusterOptions;
  readonly waypoint: MeshProxy | undefined;
  readonly instances: string[];
  /** Proxies and applications with a route to the service (sidecars, or ztunnels without a waypoint). */
  readonly routes: { proxy: MeshProxy; app: string }[];
}

/**
 * A service mesh over a network, wired the way istiod configures its data plane: services and their
 * instances are declared, and every application reaches a service through the address
 * {@link ServiceMesh.route} gives it, which crosses the mesh's proxies.
 *
 * - **Sidecar mode.** Each instance gets its own L7 proxy (`<app>.sidecar`): a hop crosses the
 *   caller's sidecar (outbound) and the callee's (inbound). The service's policy (retries, timeout,
 *   load balancing, outlier detection: Istio's defaults unless given) applies at the caller's sidecar.
 * - **Ambient mode.** Each host runs one ztunnel (`ztunnel.<host>`, L4) shared by its instances; a
 *   hop crosses the caller's ztunnel and the callee's. A service with `waypoint: true` gets a waypoint
 *   proxy (`waypoint.<service>`, L7) between them, where its policy applies; without one, its traffic
 *   has no retries, timeouts or outlier detection, and asking for them is an error.
 *
 * Proxies are placed as instances are added; a route made before an instance exists learns of it
 * (endpoint discovery). Memory is reported ({@link ServiceMesh.memoryMb}), CPU and latency simulated
 * (see {@link MeshProxy}).
 *
 * @example
 * ```ts
 * const mesh = new ServiceMesh(net, { sidecar: 'istio-1.12.3' });
 * mesh.addService('a');
 * mesh.addService('b');
 * mesh.addInstance('b', 'b-0');
 * mesh.addInstance('a', 'a-0');
 * new Service(net.node('b-0'), { serviceTime: 2 });
 * new Service(net.node('a-0'), { serviceTime: 1, downstream: { calls: [mesh.route('a-0', 'b')] } });
 * ```
 */
export class ServiceMesh {
  readonly mode: MeshMode;
  private readonly profiles: Partial<Record<MeshProxyKind, MeshProfile>> = {};
  private readonly connections: MeshConnectionOptions | undefined;
  private readonly services = new Map<string, ServiceEntry>();
  private readonly instances = new Map<string, { service: string; proxy: MeshProxy }>();
  private readonly hosts = new Map<string, MeshProxy>();
  private readonly routeAddresses = new Map<string, string>();
  private readonly proxyList: MeshProxy[] = [];

  /**
   * @param network - the network the applications' nodes are on; the proxies' nodes join it
   * @param options - the mode and its proxy profiles; checked here, once
   */
  constructor(
    readonly network: Network,
    options: ServiceMeshOptions,
  ) {
    checkObject(C, 'options', options, 'an options object such as { sidecar: "istio-1.12.3" }');
    checkOptions(C, options, MESH_KEYS);
    this.mode = checkEnum(C, 'mode', options.mode, ['sidecar', 'ambient'], 'sidecar');
    if (this.mode === 'sidecar') {
      resolveMeshProfile(C, 'sidecar', options.sidecar, 'sidecar', 'in sidecar mode');
      this.profiles.sidecar = options.sidecar!;
      for (const k of ['ztunnel', 'waypoint'] as const)
        if (options[k] !== undefined)
          throw invalidOption(C, k, options[k], 'left out in sidecar mode (it is an ambient-mode proxy)');
    } else {
      resolveMeshProfile(C, 'ztunnel', options.ztunnel, 'ztunnel', 'in ambient mode');
      this.profiles.ztunnel = options.ztunnel!;
      if (options.waypoint !== undefined) {
        resolveMeshProfile(C, 'waypoint', options.waypoint, 'waypoint', 'for services with waypoint: true');
        this.profiles.waypoint = options.waypoint;
      }
      if (options.sidecar !== undefined)
        throw invalidOption(C, 'sidecar', options.sidecar, 'left out in ambient mode (it has no sidecars)');
    }
    resolveConnections(C, options.connections);
    this.connections = options.connections;
  }

  /** Every proxy placed so far, in order. */
  get proxies(): readonly MeshProxy[] {
    return this.proxyList;
  }

  /** The memory of every proxy placed, MB (Istio's published per-proxy figures, summed). */
  get memoryMb(): number {
    let total = 0;
    for (const p of this.proxyList) total += p.memoryMb;
    return total;
  }

  /** CPU time every proxy has used so far, ms (see `ProxyCpu.busyMs`). */
  cpuMs(): number {
    let total = 0;
    for (const p of this.proxyList) total += p.cpu.busyMs();
    return total;
  }

  /**
   * Declares a service and its routing policy (an Istio VirtualService and DestinationRule): retries,
   * timeout, load balancing, outlier detection; Istio's defaults for what is left out. In ambient mode
   * `waypoint: true` places a waypoint for it; without one the policy must be empty (L4 only).
   *
   * @example
   * ```ts
   * mesh.addService('b', { retry: { attempts: 3 }, outlierDetection: { consecutive5xx: 3 } });
   * ```
   */
  addService(name: string, options?: MeshServiceOptions): void {
    checkName(C, 'addService(name)', name);
    if (this.services.has(name))
      throw invalidArgument('addService(name)', name, 'a service not already added', C);
    const field = `addService(${name})`;
    const o = options ?? {};
    checkObject(C, field, o, 'an object such as { retry: { attempts: 3 } }');
    const waypoint = checkBoolean(nested(C, field), 'waypoint', o.waypoint, false);
    if (waypoint && this.mode === 'sidecar')
      throw invalidOption(
        nested(C, field),
        'waypoint',
        true,
        'false in sidecar mode (sidecars apply L7 policy themselves)',
      );
    if (isPolicyObject(o.policy))
      throw invalidOption(
        nested(C, field),
        'policy',
        o.policy,
        "a policy spec such as { kind: 'least-request' } (every route builds its own policy; one object cannot serve several)",
      );
    const { waypoint: _w, ...cluster } = o;
    const layer = this.mode === 'sidecar' || waypoint ? 'L7' : 'L4';
    resolveCluster(C, field, o, layer, SERVICE_KEYS);
    let proxy: MeshProxy | undefined;
    if (waypoint) {
      if (this.profiles.waypoint === undefined)
        throw invalidOption(C, 'waypoint', undefined, `given for a service with waypoint: true (${name})`);
      proxy = this.place(`waypoint.${name}`, 'waypoint');
      proxy.gateway(name, [], cluster);
    }
    this.services.set(name, { name, cluster, waypoint: proxy, instances: [], routes: [] });
  }

  /**
   * Adds an instance of `service`: the application on node `app` (which must exist). In sidecar mode it
   * gets a sidecar; in ambient mode it joins the ztunnel of `host`. Every route to the service, and its
   * waypoint, learns of it. Returns the proxy that fronts it.
   *
   * @example
   * ```ts
   * mesh.addInstance('b', 'b-0', { host: 'node-2' }); // ambient
   * ```
   */
  addInstance(service: string, app: string, options?: MeshInstanceOptions): MeshProxy {
    const entry = this.service(service, 'addInstance(service)');
    this.network.node(app);
    if (this.instances.has(app))
      throw invalidArgument('addInstance(app)', app, 'an application not already in the mesh', C);
    checkOptions(C, options, INSTANCE_KEYS, 'addInstance(options)');
    let proxy: MeshProxy;
    if (this.mode === 'sidecar') {
      if (options?.host !== undefined)
        throw invalidOption(C, 'addInstance(options).host', options.host, 'left out in sidecar mode');
      proxy = this.place(`${app}.sidecar`, 'sidecar');
    } else {
      const host = checkName(C, 'addInstance(options).host', options?.host);
      proxy = this.hosts.get(host) ?? this.place(`ztunnel.${host}`, 'ztunnel');
      this.hosts.set(host, proxy);
    }
    proxy.attach(app);
    this.instances.set(app, { service, proxy });
    entry.instances.push(app);
    const endpoint: MeshEndpoint = { proxy, target: app };
    if (entry.waypoint !== undefined) entry.waypoint.addEndpoint(service, endpoint);
    else for (const r of entry.routes) r.proxy.addEndpoint(service, endpoint, r.app);
    return proxy;
  }

  /**
   * The address application `app` (an instance in the mesh) calls to reach `service`: its proxy's
   * listener for the service, made on first use. Give it to the application as the downstream address.
   *
   * @example
   * ```ts
   * new Service(net.node('a-0'), { serviceTime: 1, downstream: { calls: [mesh.route('a-0', 'b')] } });
   * ```
   */
  route(app: string, service: string): string {
    const key = `${app}\u0000${service}`;
    const known = this.routeAddresses.get(key);
    if (known !== undefined) return known;
    const from = this.instances.get(app);
    if (from === undefined)
      throw invalidArgument(
        'route(app)',
        app,
        `an instance in the mesh (${[...this.instances.keys()].join(', ')})`,
        C,
      );
    const entry = this.service(service, 'route(service)');
    let address: string;
    if (entry.waypoint !== undefined) {
      address = from.proxy.route(app, service, [{ proxy: entry.waypoint, target: service }]);
    } else {
      const endpoints = entry.instances.map((i) => ({ proxy: this.instances.get(i)!.proxy, target: i }));
      const cluster =
        this.mode === 'sidecar'
          ? entry.cluster
          : entry.cluster.policy === undefined
            ? {}
            : { policy: entry.cluster.policy };
      address = from.proxy.route(app, service, endpoints, cluster);
      entry.routes.push({ proxy: from.proxy, app });
    }
    this.routeAddresses.set(key, address);
    return address;
  }

  /**
   * The proxy that fronts application `app`.
   *
   * @example
   * ```ts
   * mesh.proxyOf('b-0').stats.inbound.requests;
   * ```
   */
  proxyOf(app: string): MeshProxy {
    const found = this.instances.get(app);
    if (found === undefined)
      throw invalidArgument(
        'proxyOf(app)',
        app,
        `an instance in the mesh (${[...this.instances.keys()].join(', ')})`,
        C,
      );
    return found.proxy;
  }

  /**
   * The waypoint of `service`, if it has one.
   *
   * @example
   * ```ts
   * mesh.waypointOf('b')?.stats.passes;
   * ```
   */
  waypointOf(service: string): MeshProxy | undefined {
    return this.service(service, 'waypointOf(service)').waypoint;
  }

  private service(name: string, field: string): ServiceEntry {
    const entry = this.services.get(name);
    if (entry === undefined)
      throw invalidArgument(
        field,
        name,
        `a service added with addService (${[...this.services.keys()].join(', ')})`,
        C,
      );
    return entry;
  }

  private place(address: string, kind: MeshProxyKind): MeshProxy {
    const profile = this.profiles[kind]!;
    const spec = typeof profile === 'string' ? { preset: profile } : profile;
    const proxy = new MeshProxy(this.network, {
      ...spec,
      address,
      kind,
      ...(this.connections === undefined ? {} : { connections: this.connections }),
    });
    this.proxyList.push(proxy);
    return proxy;
  }
}
