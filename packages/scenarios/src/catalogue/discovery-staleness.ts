import {
  DnsResolver,
  DnsServer,
  type EndpointSource,
  EurekaClient,
  EurekaInstance,
  EurekaServer,
  eurekaCrashTimeline,
  eurekaShutdownTimeline,
  feedLoadBalancer,
  LoadBalancer,
  ReadinessProbe,
  readinessBounds,
  readinessTimeline,
  ServiceEndpoints,
  stalenessBounds,
} from '@dsim/components';
import { DsimError, exponential, Network, RpcEndpoint, type RpcResponse } from '@dsim/core';
import { param } from '../params.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_MS, MAX_RATE, MAX_SECONDS } from './limits.js';

const DISCOVERY = ['eureka', 'kubernetes', 'dns'] as const;

/** Eureka's intervals (ms) as the scenario runs them: every default. */
const EUREKA = {
  renewal: 30_000,
  lease: 90_000,
  eviction: 60_000,
  cache: 30_000,
  fetch: 30_000,
  balancer: 30_000,
};
/** Kubernetes' readiness probe defaults (ms). */
const PROBE = { period: 10_000, timeout: 1000, failureThreshold: 3 };
/** Requests start this long before the fault: every cache holds every instance by then. */
const LEAD_IN = 60_000;

/**
 * `discovery-staleness`: N instances of one service and a client calling them through its discovery
 * layer; at `faultAtSeconds` instance `app-0` crashes or shuts down gracefully. The client keeps calling
 * it until every layer between it and the truth has refreshed: the staleness window, during which the
 * calls that reach `app-0` fail (a crashed instance by the client's timeout, a stopped one at once,
 * connection refused). Every periodic task starts at a random phase drawn from the seed, so the window
 * varies across seeds between the bounds the intervals imply; each run is also checked exactly against
 * an independent timeline model given its phases.
 */
export const discoveryStaleness = defineScenario({
  name: 'discovery-staleness',
  description:
    'How long clients keep calling an instance that crashed or shut down: Eureka caches, Kubernetes readiness, DNS TTLs',
  params: {
    instances: param.integer({ default: 20, min: 2, max: 1000, description: 'instances of the service (N)' }),
    rate: param.number({
      default: 20,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description: 'client requests per second (Poisson), from 60 s before the fault to the end',
    }),
    timeoutMs: param.number({
      default: 1000,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: "the client's per-request timeout: a call to a crashed instance fails after it",
    }),
    faultAtSeconds: param.number({
      default: 300,
      min: 200,
      max: MAX_SECONDS,
      description: 'when app-0 fails (every instance is known to every cache from 180 s on)',
    }),
    afterSeconds: param.number({
      default: 360,
      min: 1,
      max: MAX_SECONDS,
      description: "simulated seconds after the fault (Eureka's worst window is 330 s)",
    }),
    discovery: param.enum(DISCOVERY, {
      default: 'eureka',
      description: 'discovery mechanism (each variant sets it)',
    }),
    fault: param.enum(['crash', 'shutdown'], {
      default: 'crash',
      description: 'crash or graceful shutdown (each variant sets it)',
    }),
    crashed: param.integer({
      default: 1,
      min: 1,
      max: 1000,
      description: 'instances that crash at once, at most N (each variant sets it)',
    }),
    leaseExpiry: param.enum(['eureka', 'documented'], {
      default: 'eureka',
      description:
        "Eureka's lease expiry: 'eureka' counts the duration twice (the real server), 'documented' once",
    }),
    selfPreservation: param.boolean({ default: true, description: "Eureka server's self-preservation" }),
    propagationMs: param.number({
      default: 1000,
      min: 0,
      max: MAX_MS,
      description: 'Kubernetes: from an endpoint change to kube-proxy routing by it',
    }),
    preStopSeconds: param.number({
      default: 0,
      min: 0,
      max: MAX_SECONDS,
      description: 'Kubernetes shutdown: the preStop sleep before SIGTERM',
    }),
    dnsTtlSeconds: param.number({
      default: 5,
      min: 0,
      max: MAX_SECONDS,
      description: "DNS: the records' TTL (CoreDNS's kubernetes plugin answers with 5 s)",
    }),
    jvmCacheSeconds: param.number({
      default: 0,
      min: 0,
      max: MAX_SECONDS,
      description:
        "DNS: the client's own cache time whatever the TTL (the JVM's networkaddress.cache.ttl, 30 s); 0 honours the TTL",
    }),
  },
  variants: [
    {
      name: 'eureka-crash',
      description: 'Eureka defaults; app-0 crashes',
      params: { discovery: 'eureka', fault: 'crash' },
    },
    {
      name: 'eureka-crash-documented',
      description: 'as eureka-crash, with the lease expiring 90 s after the last renewal as documented',
      params: { discovery: 'eureka', fault: 'crash', leaseExpiry: 'documented' },
    },
    {
      name: 'eureka-shutdown',
      description: 'Eureka defaults; app-0 cancels its lease and stops (connection refused)',
      params: { discovery: 'eureka', fault: 'shutdown' },
    },
    {
      name: 'eureka-mass-crash',
      description: '5 of 20 crash at once: self-preservation keeps them registered',
      params: { discovery: 'eureka', fault: 'crash', crashed: 5 },
    },
    {
      name: 'k8s-crash',
      description: 'Kubernetes readiness probes (10 s, timeout 1 s, 3 failures), kube-proxy 1 s; app-0 hangs',
      params: { discovery: 'kubernetes', fault: 'crash' },
    },
    {
      name: 'k8s-shutdown',
      description: 'pod deleted, no preStop: SIGTERM races the endpoint removal',
      params: { discovery: 'kubernetes', fault: 'shutdown' },
    },
    {
      name: 'k8s-shutdown-prestop',
      description: 'pod deleted with a 5 s preStop sleep',
      params: { discovery: 'kubernetes', fault: 'shutdown', preStopSeconds: 5 },
    },
    {
      name: 'dns-ttl',
      description: 'headless Service: readiness, then DNS with a 5 s TTL the client honours; app-0 hangs',
      params: { discovery: 'dns', fault: 'crash' },
    },
    {
      name: 'dns-jvm',
      description: 'as dns-ttl, the client caching 30 s whatever the TTL (JVM networkaddress.cache.ttl)',
      params: { discovery: 'dns', fault: 'crash', jvmCacheSeconds: 30 },
    },
  ],
  run({ sim, params, requests, check }) {
    const n = params.instances;
    const crashed = params.fault === 'crash' ? params.crashed : 1;
    if (crashed > n)
      throw new DsimError(
        'CONFIG_ERROR',
        `parameter crashed must be at most instances (${n}), got ${crashed}`,
        {
          details: { field: 'crashed', value: crashed, allowed: `<= instances (${n})` },
        },
      );
    const faultAt = params.faultAtSeconds * 1000;
    const end = faultAt + params.afterSeconds * 1000;
    limitOffered(params.rate * (LEAD_IN / 1000 + params.afterSeconds), 'rate × (60 + afterSeconds)');
    const timeout = params.timeoutMs;
    const discovery = params.discovery;
    const shutdown = params.fault === 'shutdown';

    // Every phase is drawn here, in one order whatever the variant, so the variants of a seed share them.
    const phases = sim.rng('discovery-staleness/phases');
    const serverStart = phases.next() * 60_000;
    const instanceStart = Array.from({ length: n }, () => 60_000 + phases.next() * 30_000);
    const clientStart = 60_000 + phases.next() * 30_000;
    const balancerDelay = phases.next() * 30_000;
    const probeStart = Array.from({ length: n }, () => phases.next() * PROBE.period);
    // The server's clock against true time: Eureka aligns its cache refreshes to multiples of 30 s of
    // its own clock, so this sets their phase against the fault.
    const serverSkew = phases.next() * EUREKA.cache;

    const net = new Network(sim); // zero latency: every periodic task runs exactly on its ticks
    const addresses = Array.from({ length: n }, (_, i) => `app-${i}`);
    const stopped = new Set<string>();
    for (const [i, a] of addresses.entries()) {
      // An instance answers at once: the discovery layer, not load, is what the variants compare.
      RpcEndpoint.of(net.addNode(a)).serve((_req, reply) => {
        if (stopped.has(a)) reply.error('unavailable', 'connection refused');
        else reply.ok(i);
      });
    }
    const callerNode = net.addNode('caller');
    const caller = RpcEndpoint.of(callerNode);

    let server: EurekaServer | null = null;
    let instances: EurekaInstance[] = [];
    let client: EurekaClient | null = null;
    let svc: ServiceEndpoints | null = null;
    let source: EndpointSource | null = null;
    let balancer: LoadBalancer | null = null;
    let resolver: DnsResolver | null = null;
    const cacheTtl = params.jvmCacheSeconds > 0 ? params.jvmCacheSeconds * 1000 : params.dnsTtlSeconds * 1000;
    if (discovery === 'eureka') {
      const node = net.addNode('eureka');
      node.clock.skew(serverSkew); // configuration, not a fault: nothing is logged
      server = new EurekaServer(node, {
        startAfter: serverStart,
        leaseExpiry: params.leaseExpiry,
        selfPreservation: params.selfPreservation,
      });
      instances = addresses.map(
        (a, i) =>
          new EurekaInstance(net.node(a), {
            server: 'eureka',
            app: 'orders',
            registration: 'at-start',
            startAfter: instanceStart[i]!,
          }),
      );
      client = new EurekaClient(net.addNode('web'), {
        server: 'eureka',
        app: 'orders',
        startAfter: clientStart,
        balancerInitialDelay: balancerDelay,
      });
      source = client;
      balancer = new LoadBalancer(net.addNode('web-lb'), { backends: [], timeout });
    } else {
      svc = new ServiceEndpoints(sim, { propagationDelay: params.propagationMs });
      for (const [i, a] of addresses.entries())
        svc.addPod(
          a,
          new ReadinessProbe(net.addNode(`kubelet-${i}`), { target: a, startAfter: probeStart[i]! }),
        );
      if (discovery === 'kubernetes') {
        source = svc;
        // IPVS's default scheduler is round robin.
        balancer = new LoadBalancer(net.addNode('kube-proxy'), { backends: [], timeout });
      } else {
        new DnsServer(net.addNode('dns'), { records: { orders: svc }, ttl: params.dnsTtlSeconds * 1000 });
        resolver = new DnsResolver(callerNode, {
          server: 'dns',
          cacheTtl: params.jvmCacheSeconds > 0 ? cacheTtl : 'record',
        });
      }
    }
    if (source !== null && balancer !== null) feedLoadBalancer(source, balancer);

    // When the client's view drops app-0 (the balancer's list, or the first resolver answer without it).
    // The same for every failed instance (a mass crash): the last of them bounds the failures.
    let dropAt: number | null = null;
    const failedSet = addresses.slice(0, crashed);
    const dropped = new Map<string, number>();
    const noteDrops = (listed: (address: string) => boolean): void => {
      for (const a of failedSet) if (!dropped.has(a) && !listed(a)) dropped.set(a, sim.now);
      dropAt ??= dropped.get('app-0') ?? null;
    };
    source?.onChange((endpoints) => {
      if (sim.now >= faultAt) noteDrops((a) => endpoints.includes(a));
    });
    // Eureka's layers, watched after each event from the fault until all dropped app-0.
    const layers = {
      registry: null as number | null,
      responseCache: null as number | null,
      client: null as number | null,
    };
    if (server !== null && client !== null) {
      const s = server;
      const c = client;
      const off = sim.watch(1, () => {
        if (sim.now < faultAt) return;
        if (layers.registry === null && !s.registered('orders').includes('app-0')) layers.registry = sim.now;
        if (layers.responseCache === null && !s.served('orders').includes('app-0'))
          layers.responseCache = sim.now;
        if (layers.client === null && !c.registryCache.includes('app-0')) layers.client = sim.now;
        if (layers.client !== null) off();
      });
    }

    sim.schedule(faultAt, () => {
      for (let i = 0; i < crashed; i++) {
        const a = addresses[i]!;
        if (!shutdown) net.crash(a);
        else if (discovery === 'eureka') {
          instances[i]!.shutdown();
          stopped.add(a);
        } else svc!.terminate(a, { preStop: params.preStopSeconds * 1000, onSigterm: () => stopped.add(a) });
      }
    });

    // Arrivals, from LEAD_IN before the fault to the end.
    const starts: number[] = [];
    const oks: boolean[] = [];
    let rr = 0;
    const gaps = exponential({ rate: params.rate / 1000 });
    const rng = sim.rng('discovery-staleness/arrivals');
    const send = (k: number, started: number): void => {
      const done = (ok: boolean): void => {
        oks[k] = ok;
        requests.finish(ok, sim.now - started);
      };
      if (resolver === null) {
        caller.callThen(balancer!.endpoint.node.address, 'GET /', {}, (res) => done(res.ok));
        return;
      }
      resolver.resolve('orders', (list) => {
        if (list === null || list.length === 0) {
          done(false);
          return;
        }
        if (sim.now > faultAt && dropped.size < crashed) noteDrops((a) => list.includes(a));
        caller.callThen(list[rr++ % list.length]!, 'GET /', { timeout }, (res: RpcResponse) => done(res.ok));
      });
    };
    sim.schedule(faultAt - LEAD_IN, function arrive() {
      if (sim.now >= end) return;
      const k = starts.length;
      starts.push(sim.now);
      oks.push(false);
      requests.start();
      send(k, sim.now);
      sim.schedule(gaps.sample(rng), arrive);
    });
    sim.run({ until: end + timeout + 1 });

    // The model: the drop time each mechanism implies for this run's phases.
    let expected: number | null = null;
    let best: number;
    let worst: number;
    let expectedLayers: { registry: number; responseCache: number; client: number } | null = null;
    if (discovery === 'eureka') {
      const schedule = {
        evictionFirst: serverStart + EUREKA.eviction,
        evictionInterval: EUREKA.eviction,
        cacheFirst: serverStart + firstAligned(serverStart + serverSkew, EUREKA.cache),
        cacheInterval: EUREKA.cache,
        fetchFirst: clientStart,
        fetchInterval: EUREKA.fetch,
        balancerFirst: clientStart + balancerDelay,
        balancerInterval: EUREKA.balancer,
      };
      // app-0 registered at its start and renewed every 30 s since: its last renewal before the fault.
      const s0 = instanceStart[0]!;
      const lastRenewal = s0 + Math.floor((faultAt - s0) / EUREKA.renewal) * EUREKA.renewal;
      const drop = shutdown
        ? eurekaShutdownTimeline(schedule, faultAt)
        : eurekaCrashTimeline(schedule, {
            lastRenewal,
            renewed: true,
            duration: EUREKA.lease,
            expiry: params.leaseExpiry,
          });
      expectedLayers = { registry: drop.registry, responseCache: drop.responseCache, client: drop.client };
      expected = drop.balancer;
      ({ best, worst } = stalenessBounds(shutdown ? 'shutdown' : 'crash', {
        ...EUREKA,
        expiry: params.leaseExpiry,
      }));
    } else {
      const k8s = { probeFirst: probeStart[0]!, ...PROBE, propagationDelay: params.propagationMs };
      const removed = shutdown ? faultAt + params.propagationMs : readinessTimeline(k8s, faultAt).removed;
      ({ best, worst } = shutdown
        ? { best: params.propagationMs, worst: params.propagationMs }
        : readinessBounds(k8s));
      if (discovery === 'kubernetes') expected = removed;
      else {
        // The resolver's lazy cache: a query at the first lookup at or after the entry expired; the
        // first query after the removal drops app-0.
        let queried = Number.NEGATIVE_INFINITY;
        for (const t of starts) {
          if (t < queried + cacheTtl) continue;
          queried = t;
          if (t > removed) {
            expected = t;
            break;
          }
        }
        worst += cacheTtl + maxGapAfter(starts, removed);
      }
    }

    // Failures: every one should be a call that reached a failed instance before the client dropped it.
    const lastDrop = failedSet.every((a) => dropped.has(a))
      ? Math.max(...failedSet.map((a) => dropped.get(a)!))
      : Number.POSITIVE_INFINITY;
    const refusedFrom = discovery !== 'eureka' && shutdown ? faultAt + params.preStopSeconds * 1000 : faultAt;
    let failed = 0;
    let failedAfterDrop = 0;
    let inWindow = 0;
    let lastFailure: number | null = null;
    for (let k = 0; k < starts.length; k++) {
      const t = starts[k]!;
      if (t >= refusedFrom && t < (dropAt ?? Number.POSITIVE_INFINITY)) inWindow++;
      if (oks[k]) continue;
      failed++;
      lastFailure = t;
      if (t >= lastDrop) failedAfterDrop++;
    }
    const staleMs = dropAt === null ? null : dropAt - faultAt;
    // The timeline model assumes the eviction runs may evict; under self-preservation it claims nothing.
    const blocked = server !== null && dropAt === null;
    const expectedMs = expected === null || blocked ? null : expected - faultAt;
    const near = (a: number | null, b: number | null) => a !== null && b !== null && Math.abs(a - b) < 1e-6;
    const label = `${discovery} ${params.fault}`;
    // Several expired leases at once: an eviction run takes at most size − floor(0.85 × size) of them,
    // so app-0 may go whole runs later than its lease alone says.
    const limited = discovery === 'eureka' && crashed > 1;
    const deferred = staleMs !== null && expectedMs !== null && limited ? staleMs - expectedMs : 0;
    const runs = deferred / EUREKA.eviction;

    if (blocked) {
      check(
        `${label}: nothing dropped, because self-preservation stopped the evictions`,
        server!.selfPreservationActive && server!.stats.evictions === 0,
        `renewals in the last minute ${server!.renewalsLastMinute}, threshold ${server!.renewalThreshold}, ${server!.stats.selfPreservationRuns} eviction runs skipped`,
      );
      const share = crashed / n;
      const after = starts.filter((t) => t >= faultAt).length;
      check(
        `${label}: the dead instances keep their share of the requests, all failing`,
        after > 0 && Math.abs(failed / after - share) <= (crashed + 1) / after,
        `error rate after the fault ${(failed / Math.max(1, after)).toFixed(4)}, crashed share ${share}`,
      );
    } else {
      check(
        limited
          ? `${label}: the client dropped app-0 when the timeline model says, or whole eviction runs later (the eviction limit)`
          : `${label}: the client dropped app-0 exactly when the timeline model says`,
        limited
          ? staleMs !== null && runs > -1e-9 && Math.abs(runs - Math.round(runs)) < 1e-9
          : near(staleMs, expectedMs),
        `dropped ${show(staleMs)} ms after the fault; model ${show(expectedMs)} ms`,
      );
      // A graceful removal in Kubernetes takes exactly the propagation delay; every other window is
      // above its infimum.
      const exact = shutdown && discovery === 'kubernetes';
      const own = staleMs === null ? null : staleMs - deferred;
      const inside = own !== null && (exact ? own >= best : own > best) && own <= worst;
      check(
        `${label}: the window lies within the theoretical bounds${limited ? ' (less any deferral)' : ''}`,
        inside,
        `${show(own)} ms in ${exact ? '[' : '('}${show(best)}, ${show(worst)}] ms`,
      );
      if (expectedLayers !== null) {
        const measured = [layers.registry, layers.responseCache, layers.client].map((x) =>
          x === null ? null : x - faultAt - deferred,
        );
        const model = [expectedLayers.registry, expectedLayers.responseCache, expectedLayers.client].map(
          (x) => x - faultAt,
        );
        check(
          `${label}: registry, response cache and client cache each dropped app-0 at the model's tick`,
          measured.every((m, i) => near(m, model[i]!)),
          `measured ${measured.map(show).join(', ')} ms${limited ? ` less ${show(deferred)} ms deferred` : ''}; model ${model.map(show).join(', ')} ms`,
        );
      }
      check(
        `${label}: no request fails once the client dropped ${crashed > 1 ? 'every failed instance' : 'it'}`,
        failedAfterDrop === 0,
        `${failedAfterDrop} failures after the drop, ${failed} in all`,
      );
      if (crashed === 1)
        check(
          `${label}: the failures are the calls round robin sent to app-0 in the window (1 in ${n})`,
          Math.abs(failed - inWindow / n) <= 1,
          `${failed} failed; ${inWindow} requests in the window / ${n} = ${(inWindow / n).toFixed(2)}`,
        );
    }

    return {
      staleMs,
      expectedStaleMs: expectedMs,
      boundBestMs: best,
      boundWorstMs: worst,
      registryMs: layers.registry === null ? null : layers.registry - faultAt,
      responseCacheMs: layers.responseCache === null ? null : layers.responseCache - faultAt,
      clientCacheMs: layers.client === null ? null : layers.client - faultAt,
      requests: starts.length,
      failed,
      failedAfterDrop,
      lastFailureMs: lastFailure === null ? null : lastFailure - faultAt,
      errorRate: starts.length === 0 ? 0 : failed / starts.length,
      evictions: server?.stats.evictions ?? null,
      selfPreservation: server === null ? null : server.selfPreservationActive,
      dnsQueries: resolver?.stats.queries ?? null,
      preStopMs: shutdown && discovery !== 'eureka' ? params.preStopSeconds * 1000 : null,
    };
  },
  compare(variants: readonly VariantResult[]) {
    const get = (name: string) => variants.find((v) => v.name === name)?.outcome;
    const out = [];
    const crash = get('eureka-crash');
    const documented = get('eureka-crash-documented');
    if (
      crash !== undefined &&
      documented !== undefined &&
      crash.staleMs !== null &&
      documented.staleMs !== null
    ) {
      const d = (crash.staleMs as number) - (documented.staleMs as number);
      out.push({
        name: "Eureka's doubled lease costs one or two more eviction runs than the documented 90 s",
        pass: Math.abs(d - 60_000) < 1e-6 || Math.abs(d - 120_000) < 1e-6,
        detail: `eureka-crash ${show(crash.staleMs as number)} ms, documented expiry ${show(documented.staleMs as number)} ms: ${show(d)} ms more`,
      });
    }
    const graceful = get('eureka-shutdown');
    if (crash !== undefined && graceful !== undefined)
      out.push({
        name: 'a graceful shutdown leaves Eureka clients stale for less time than a crash',
        pass:
          graceful.staleMs !== null &&
          crash.staleMs !== null &&
          (graceful.staleMs as number) < (crash.staleMs as number),
        detail: `shutdown ${show(graceful.staleMs as number | null)} ms, crash ${show(crash.staleMs as number | null)} ms`,
      });
    const race = get('k8s-shutdown');
    const preStop = get('k8s-shutdown-prestop');
    // Only when the sleep does outlast the propagation (a --set may shorten it).
    if (
      race !== undefined &&
      preStop !== undefined &&
      (preStop.preStopMs as number) >= (preStop.staleMs as number)
    )
      out.push({
        name: 'a preStop sleep as long as the propagation removes the shutdown errors',
        pass: preStop.failed === 0,
        detail: `no preStop: ${race.failed} failed; preStop ${preStop.preStopMs} ms: ${preStop.failed} failed`,
      });
    return out;
  },
});

/** From local time `local` to the next multiple of `every` (how ResponseCacheImpl schedules its first run). */
function firstAligned(local: number, every: number): number {
  return (Math.floor(local / every) + 1) * every - local;
}

/**
 * The longest gap between consecutive arrivals after `from`: a resolver's entry that expired is queried
 * again at the next lookup, at most this long after it expired.
 */
function maxGapAfter(starts: readonly number[], from: number): number {
  let gap = 0;
  for (let k = 1; k < starts.length; k++) {
    if (starts[k]! <= from) continue;
    gap = Math.max(gap, starts[k]! - starts[k - 1]!);
  }
  return gap;
}

const show = (x: number | null): string => (x === null ? 'never' : String(Math.round(x * 1000) / 1000));
