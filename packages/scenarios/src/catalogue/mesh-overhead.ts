import {
  cpuMsPerRequest,
  hopQuantile,
  ISTIO_DEFAULT_RETRY,
  PROXY_PRESETS,
  type ProxyPresetName,
  presetPassLatency,
  RetryingClient,
  Service,
  ServiceMesh,
  type ServiceMeshOptions,
  sumOfTwoLognormalsCdf,
} from '@dsim/components';
import {
  constant,
  exponential,
  LatencyHistogram,
  Network,
  RpcEndpoint,
  type RpcErrorKind,
  type Simulation,
} from '@dsim/core';
import { param } from '../params.js';
import { type CheckResult, defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_MS, MAX_RATE, MAX_SECONDS } from './limits.js';

const MESHES = [
  'none',
  'istio-1.3.5',
  'istio-1.12.3',
  'istio-1.24-sidecar',
  'ambient',
  'ambient-waypoint',
] as const;
type MeshChoice = (typeof MESHES)[number];

/** Share of the run (by time) left out of the end-to-end latency figures. */
const WARMUP_SHARE = 0.05;
/** Standard errors allowed on a sample quantile or a Poisson count. */
const Z = 4;
/**
 * Allowance for CPU queueing in a hop's added latency: the published figures are fitted as if the
 * proxies never queued, and at about 1000 passes per second on 2 workers they wait a little
 * (M/D/2 at ρ 0.1 to 0.3: well under 1% of the hop's p90).
 */
const QUEUEING_ALLOWANCE = 0.02;

/** What one pass through each proxy on a hop costs, and how many passes a hop makes. */
interface HopModel {
  /** CPU ms of each pass on a hop, in order. */
  readonly cpu: readonly number[];
  /** The published preset whose fitted latency applies, if any. */
  readonly preset: ProxyPresetName | undefined;
  /** Retries the mesh makes per attempt on a hop (L7 only). */
  readonly retries: number;
  /** Connections a hop opens: one per proxy-to-proxy leg. */
  readonly legs: number;
}

function hopModel(mesh: MeshChoice, meshRetries: number): HopModel {
  const cpu = (p: ProxyPresetName): number => cpuMsPerRequest(PROXY_PRESETS[p].vcpuPer1000Rps);
  switch (mesh) {
    case 'none':
      return { cpu: [], preset: undefined, retries: 0, legs: 0 };
    case 'ambient':
      return {
        cpu: [cpu('istio-1.24-ztunnel'), cpu('istio-1.24-ztunnel')],
        preset: undefined,
        retries: 0,
        legs: 1,
      };
    case 'ambient-waypoint':
      return {
        cpu: [cpu('istio-1.24-ztunnel'), cpu('istio-1.24-waypoint'), cpu('istio-1.24-ztunnel')],
        preset: undefined,
        retries: meshRetries,
        legs: 2,
      };
    default:
      return {
        cpu: [cpu(mesh), cpu(mesh)],
        preset: mesh === 'istio-1.24-sidecar' ? undefined : mesh,
        retries: meshRetries,
        legs: 1,
      };
  }
}

/**
 * The density of a fitted hop's added latency at `x` (central difference of its CDF), for the standard
 * error of a sample quantile: sqrt(p(1 − p)/n) / f(q_p).
 */
function hopDensity(preset: ProxyPresetName, x: number): number {
  const fit = presetPassLatency(preset)!;
  const c = cpuMsPerRequest(PROXY_PRESETS[preset].vcpuPer1000Rps);
  const scale = Math.exp(fit.mu);
  const cdf = (s: number): number => sumOfTwoLognormalsCdf((s - 2 * c) / scale, fit.sigma);
  const h = x * 1e-3;
  return (cdf(x + h) - cdf(x - h)) / (2 * h);
}

const fmt = (x: number, digits = 3): string => x.toFixed(digits);

/**
 * `mesh-overhead`: a chain `client → s1 → … → s<hops>` of single-instance services, with no mesh, with
 * Istio sidecars of three versions, and in ambient mode (ztunnels, with or without waypoints). It
 * measures what the mesh adds per hop (latency, against the Istio figures the proxies were fitted
 * to), the proxies' CPU (against rate × CPU per request), their memory, the connections opened (one
 * handshake each), and, in `retry-amplification`, how application and mesh retries multiply when the
 * last service answers 503 to everything.
 */
export const meshOverhead = defineScenario({
  name: 'mesh-overhead',
  description:
    'What a service mesh adds per hop (latency, proxy CPU, memory) by Istio version and in ambient mode, and how app and mesh retries multiply',
  params: {
    hops: param.integer({ default: 3, min: 1, max: 6, description: 'services after the client (hops)' }),
    rate: param.number({
      default: 500,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description:
        "client requests per second (Poisson); each middle proxy then passes twice as many, 1000/s by default: Istio's benchmark load",
    }),
    seconds: param.number({
      default: 3,
      min: 0.1,
      max: MAX_SECONDS,
      description: 'simulated seconds of arrivals (the first 5% are left out of end-to-end latencies)',
    }),
    serviceMs: param.number({
      default: 1,
      min: 0,
      max: MAX_MS,
      description: 'constant service time of every service',
    }),
    linkMs: param.number({
      default: 0.1,
      min: 0,
      max: MAX_MS,
      description: 'one-way network latency between pods',
    }),
    mesh: param.enum(MESHES, { default: 'none', description: 'the mesh (each variant sets it)' }),
    unpublishedLatencyMs: param.number({
      default: 0,
      min: 0,
      max: MAX_MS,
      description:
        'pass latency besides CPU for the proxies Istio publishes none for in text (1.24 sidecar, ztunnel, waypoint); 0: CPU time only',
    }),
    handshakeCpuMs: param.number({
      default: 0,
      min: 0,
      max: MAX_MS,
      description: 'CPU of one mTLS handshake on each proxy (no published figure)',
    }),
    appRetries: param.integer({
      default: 3,
      min: 0,
      max: 10,
      description: 'retries by every application (a RetryingClient of 1 + appRetries attempts)',
    }),
    meshRetries: param.integer({
      default: 2,
      min: 0,
      max: 10,
      description: "retries by every L7 proxy (Istio's default: 2)",
    }),
    failLast: param.boolean({
      default: false,
      description: 'the last service answers 503 to everything (retry-amplification sets it)',
    }),
    failRequests: param.integer({
      default: 3,
      min: 1,
      max: 10_000,
      description: 'client requests sent when the last service fails (100 ms apart)',
    }),
  },
  variants: [
    { name: 'no-mesh', description: 'services call each other directly', params: { mesh: 'none' as const } },
    {
      name: 'istio-1.3.5',
      description: 'Istio 1.3.5 sidecars: 0.6 vCPU per 1000 rps, 50 MB, a hop adds 7 ms at p90',
      params: { mesh: 'istio-1.3.5' as const },
    },
    {
      name: 'istio-1.12.3',
      description: 'Istio 1.12.3 sidecars: 0.35 vCPU, 40 MB, a hop adds 1.7 ms at p90 and 2.7 ms at p99',
      params: { mesh: 'istio-1.12.3' as const },
    },
    {
      name: 'istio-1.24-sidecar',
      description: 'Istio 1.24 sidecars: 0.20 vCPU, 60 MB; latency a parameter (not published in text)',
      params: { mesh: 'istio-1.24-sidecar' as const },
    },
    {
      name: 'ambient',
      description: 'Istio 1.24 ambient, a ztunnel per host (0.06 vCPU, 12 MB), L4 only: no mesh retries',
      params: { mesh: 'ambient' as const },
    },
    {
      name: 'ambient-waypoint',
      description: 'ambient with a waypoint per service (0.25 vCPU, 60 MB) for L7 policy',
      params: { mesh: 'ambient-waypoint' as const },
    },
    {
      name: 'retry-amplification',
      description:
        'Istio 1.12.3 sidecars; the last service answers 503: every application retries 3 times, every sidecar 2',
      params: { mesh: 'istio-1.12.3' as const, failLast: true },
    },
    {
      name: 'retry-app-only',
      description: 'no mesh; the last service answers 503: only the applications retry',
      params: { mesh: 'none' as const, failLast: true },
    },
  ],
  run({ sim, params, requests, check }) {
    const { hops, mesh: choice, failLast } = params;
    const endMs = params.seconds * 1000;
    const perMs = params.rate / 1000;
    if (!failLast) limitOffered(perMs * endMs * hops, 'rate × seconds × hops', undefined, 'hop requests');
    const model = hopModel(choice, params.meshRetries);
    const attemptsPerHop = (1 + params.appRetries) * (1 + model.retries);
    if (failLast)
      limitOffered(
        params.failRequests * attemptsPerHop ** hops,
        'failRequests × attempts per hop ^ hops',
        undefined,
        'attempts at the last service',
      );

    const net = new Network(sim, { defaults: { latency: constant(params.linkMs) } });
    const mesh = choice === 'none' ? undefined : new ServiceMesh(net, meshOptions(choice, params));
    const names = ['client'];
    for (let i = 1; i <= hops; i++) names.push(`s${i}`);
    const retry =
      params.meshRetries === 2
        ? {}
        : {
            retry:
              params.meshRetries === 0
                ? (false as const)
                : { ...ISTIO_DEFAULT_RETRY, attempts: params.meshRetries },
          };
    for (const name of names) {
      net.addNode(`${name}-0`);
      if (mesh === undefined) continue;
      const l7 = choice !== 'ambient';
      mesh.addService(name, {
        ...(l7 ? retry : {}),
        ...(choice === 'ambient-waypoint' ? { waypoint: true } : {}),
      });
      mesh.addInstance(
        name,
        `${name}-0`,
        choice.startsWith('ambient') ? { host: `host-${name}` } : undefined,
      );
    }
    const address = (from: string, to: string): string =>
      mesh === undefined ? `${to}-0` : mesh.route(`${from}-0`, to);
    const retrying = (endpoint: RpcEndpoint) =>
      new RetryingClient(endpoint, { maxAttempts: 1 + params.appRetries });

    // The last service, then the others back to front (each needs the next one's address).
    let lastServed = 0;
    const last = names[hops]!;
    if (failLast)
      new RpcEndpoint(net.node(`${last}-0`)).serve((_req, reply) => {
        lastServed++;
        reply.error('unavailable', `${last}: 503 Service Unavailable`);
      });
    for (let i = hops; i >= 1; i--) {
      const name = names[i]!;
      if (failLast && i === hops) continue;
      const next = names[i + 1];
      new Service(net.node(`${name}-0`), {
        serviceTime: constant(params.serviceMs),
        concurrency: 100_000,
        ...(next === undefined ? {} : { downstream: { calls: [address(name, next)], client: retrying } }),
      });
    }
    const client = retrying(RpcEndpoint.of(net.node('client-0')));
    const entry = address('client', names[1]!);

    const e2e = new LatencyHistogram();
    let sent = 0;
    let ok = 0;
    /** Every ok request's latency, warm-up and connection setups included, for the mean's check. */
    let sumAll = 0;
    const failures: Partial<Record<RpcErrorKind, number>> = {};
    const send = (): void => {
      const started = sim.now;
      sent++;
      requests.start();
      client.call(entry, 'req').onProcessed((e) => {
        const res = e.value!;
        const t = sim.now - started;
        requests.finish(res.ok, t);
        if (res.ok) {
          ok++;
          sumAll += t;
          if (started >= WARMUP_SHARE * endMs) e2e.record(t);
        } else failures[res.error.kind] = (failures[res.error.kind] ?? 0) + 1;
      });
    };
    if (failLast) {
      for (let i = 0; i < params.failRequests; i++) sim.schedule(i * 100, send);
    } else poissonArrivals(sim, perMs, endMs, send);
    sim.run();

    const failed = sent - ok;
    if (failLast) return failing();
    return steady();

    function failing() {
      const expected = params.failRequests * attemptsPerHop ** hops;
      check(
        'every request fails with the 503 of the last service',
        failed === sent && failures.unavailable === sent,
        `${sent} sent, ${ok} ok, failures ${JSON.stringify(failures)}`,
      );
      check(
        'attempts at the failing service = requests × ((1 + app retries) × (1 + mesh retries))^hops',
        lastServed === expected,
        `${lastServed} attempts for ${params.failRequests} requests: ${lastServed / params.failRequests} each, expected ((1 + ${params.appRetries}) × (1 + ${model.retries}))^${hops} = ${attemptsPerHop ** hops}`,
      );
      return {
        requests: sent,
        failed,
        attemptsAtLast: lastServed,
        attemptsPerRequest: lastServed / params.failRequests,
        expectedPerRequest: attemptsPerHop ** hops,
        attemptsPerHop,
        meshRetriesPerHop: model.retries,
        proxyCpuMs: mesh === undefined ? 0 : mesh.cpuMs(),
      };
    }

    function steady() {
      check(
        'every request answered ok',
        ok === sent && sent > 0,
        `${ok} of ${sent} ok, failures ${JSON.stringify(failures)}`,
      );
      const out: Record<string, number | string | boolean | null> = {
        requests: sent,
        failed,
        e2eMeanMs: e2e.mean,
        e2eMeanAllMs: ok === 0 ? null : sumAll / ok,
        e2eP50Ms: e2e.percentile(50),
        e2eP90Ms: e2e.percentile(90),
        e2eP99Ms: e2e.percentile(99),
      };
      if (mesh === undefined) {
        const base = hops * (2 * params.linkMs + params.serviceMs);
        check(
          'without a mesh the chain takes hops × (2 × link + service), every request',
          Math.abs(e2e.percentile(99) - base) < 1e-3 * base + 1e-3 &&
            Math.abs(e2e.percentile(50) - base) < 1e-3 * base + 1e-3,
          `p50 ${fmt(e2e.percentile(50))} ms, p99 ${fmt(e2e.percentile(99))} ms, expected ${fmt(base)} ms`,
        );
        return { ...out, proxies: 0, memoryMb: 0, proxyCpuMs: 0, proxyVcpu: 0, cpuPerRequestMs: 0 };
      }

      // Added latency per hop: pooled over every proxy that delivered to an application.
      const hop = new LatencyHistogram();
      for (const p of mesh.proxies) if (p.hopLatency.count > 0) hop.merge(p.hopLatency.latency);
      const hopP50 = hop.percentile(50);
      const hopP90 = hop.percentile(90);
      const hopP99 = hop.percentile(99);
      if (model.preset !== undefined) {
        const preset = PROXY_PRESETS[model.preset];
        const fit = presetPassLatency(model.preset)!;
        const cpu = cpuMsPerRequest(preset.vcpuPer1000Rps);
        const quantiles: [number, number, number][] = [[0.9, preset.hop!.p90, hopP90]];
        if (preset.hop!.p99 !== undefined) quantiles.push([0.99, preset.hop!.p99, hopP99]);
        for (const [p, published, measured] of quantiles) {
          const q = hopQuantile(fit, cpu, p);
          const se = Math.sqrt((p * (1 - p)) / hop.count) / hopDensity(model.preset, q);
          const tol = Z * se + QUEUEING_ALLOWANCE * published;
          check(
            `added latency per hop at p${Math.round(p * 100)} matches Istio ${model.preset}`,
            Math.abs(measured - published) <= tol,
            `${fmt(measured)} ms over ${hop.count} hops, published ${published} ms (tolerance ${fmt(tol)} ms: ${Z} SE of the sample quantile plus ${QUEUEING_ALLOWANCE * 100}% for CPU queueing)`,
          );
        }
      } else {
        // No published latency: a pass costs its CPU plus the given constant.
        const floor = model.cpu.reduce((s, c) => s + c + params.unpublishedLatencyMs, 0);
        check(
          'added latency per hop = its passes’ CPU plus the given pass latency (no published figure)',
          hopP50 >= floor - 1e-3 && hopP50 <= floor * (1 + QUEUEING_ALLOWANCE) + 1e-3,
          `median ${fmt(hopP50)} ms, expected ${fmt(floor)} ms (${model.cpu.length} passes) plus a little CPU queueing`,
        );
      }

      // Proxy CPU: every pass costs its CPU once; at this rate that many vCPU.
      const cpuMs = mesh.cpuMs();
      const perRequest = model.cpu.reduce((s, c) => s + c, 0) * hops;
      const handshakeCpu =
        mesh.proxies.reduce((s, p) => s + p.stats.connections.opened, 0) * 2 * params.handshakeCpuMs;
      check(
        'proxy CPU per request = passes × CPU per request (the presets’ vCPU per 1000 rps)',
        Math.abs(cpuMs - sent * perRequest - handshakeCpu) <= 1e-6 * cpuMs + 1e-6,
        `${fmt(cpuMs / sent, 4)} ms per request, expected ${fmt(perRequest, 4)} (${model.cpu.length} passes per hop × ${hops} hops)`,
      );
      const vcpu = cpuMs / endMs;
      const expectedVcpu = perMs * perRequest;
      const vcpuTol = Z / Math.sqrt(perMs * endMs);
      check(
        'mesh vCPU = request rate × CPU per request',
        Math.abs(vcpu / expectedVcpu - 1) <= vcpuTol,
        `${fmt(vcpu)} vCPU at ${params.rate} requests/s, expected ${fmt(expectedVcpu)} (tolerance ${fmt(100 * vcpuTol, 1)}%: ${Z} SE of a Poisson count)`,
      );

      // Connections: one per proxy-to-proxy leg, each set up once and reused.
      let handshakes = 0;
      let opened = 0;
      let served = 0;
      for (const p of mesh.proxies) {
        handshakes += p.stats.connections.handshakes;
        opened += p.stats.connections.opened;
        served += p.stats.handshakesServed;
      }
      const legs = model.legs * hops;
      check(
        'each connection is set up once and reused: handshakes = proxy-to-proxy legs',
        handshakes === legs && opened === legs && served === legs,
        `${handshakes} handshakes (${opened} opened, ${served} answered) for ${legs} legs over ${sent} requests`,
      );
      return {
        ...out,
        hopP50Ms: hopP50,
        hopP90Ms: hopP90,
        hopP99Ms: hopP99,
        hopMeanMs: hop.mean,
        hops: hop.count,
        proxies: mesh.proxies.length,
        memoryMb: mesh.memoryMb,
        proxyCpuMs: cpuMs,
        proxyVcpu: vcpu,
        cpuPerRequestMs: cpuMs / sent,
        handshakes,
        extraNetworkMsPerHop: (model.legs - 1) * 2 * params.linkMs,
      };
    }
  },
  compare(variants: readonly VariantResult[], params) {
    const by = (name: string) => variants.find((v) => v.name === name)?.outcome;
    const base = by('no-mesh');
    const checks: CheckResult[] = [];
    if (base !== undefined) {
      for (const v of variants) {
        const o = v.outcome;
        if (v.name === 'no-mesh' || o.hopMeanMs === undefined) continue;
        // Service times and links are constant: the end-to-end difference is the mesh's, request by
        // request (plus a waypoint's extra network round trip per hop).
        // Means over every request: the hop figures include the connection setups of the first ones.
        const added = ((o.e2eMeanAllMs as number) - (base.e2eMeanAllMs as number)) / params.hops;
        const expected = (o.hopMeanMs as number) + (o.extraNetworkMsPerHop as number);
        checks.push({
          name: `${v.name}: end-to-end mean grows by hops × the mean added per hop`,
          pass: Math.abs(added - expected) <= 0.02 * expected + 0.01,
          detail: `(${fmt(o.e2eMeanAllMs as number)} − ${fmt(base.e2eMeanAllMs as number)}) / ${params.hops} = ${fmt(added)} ms against ${fmt(o.hopMeanMs as number)} ms measured at the proxies${(o.extraNetworkMsPerHop as number) > 0 ? ` plus ${fmt(o.extraNetworkMsPerHop as number)} ms for the round trip through the waypoint` : ''}`,
        });
      }
    }
    const meshed = by('retry-amplification');
    const appOnly = by('retry-app-only');
    if (meshed !== undefined && appOnly !== undefined)
      checks.push({
        name: 'the mesh multiplies the applications’ retry amplification by (1 + mesh retries)^hops',
        pass:
          (meshed.attemptsPerRequest as number) ===
          (appOnly.attemptsPerRequest as number) * (1 + (meshed.meshRetriesPerHop as number)) ** params.hops,
        detail: `${meshed.attemptsPerRequest} attempts per request with sidecars, ${appOnly.attemptsPerRequest} with the applications' retries alone: × ${(meshed.attemptsPerRequest as number) / (appOnly.attemptsPerRequest as number)}`,
      });
    const old = by('istio-1.3.5');
    const newer = by('istio-1.12.3');
    if (old !== undefined && newer !== undefined)
      checks.push({
        name: 'Istio 1.12.3 adds less per hop than 1.3.5, and uses less proxy CPU',
        pass:
          (newer.hopP90Ms as number) < (old.hopP90Ms as number) &&
          (newer.proxyCpuMs as number) < (old.proxyCpuMs as number),
        detail: `p90 per hop ${fmt(newer.hopP90Ms as number)} against ${fmt(old.hopP90Ms as number)} ms; CPU ${fmt(newer.cpuPerRequestMs as number)} against ${fmt(old.cpuPerRequestMs as number)} ms per request`,
      });
    const sidecar = by('istio-1.24-sidecar');
    const ambient = by('ambient');
    if (sidecar !== undefined && ambient !== undefined)
      checks.push({
        name: 'ambient (ztunnels only) uses less proxy CPU and memory than 1.24 sidecars',
        pass:
          (ambient.cpuPerRequestMs as number) < (sidecar.cpuPerRequestMs as number) &&
          (ambient.memoryMb as number) < (sidecar.memoryMb as number),
        detail: `CPU ${fmt(ambient.cpuPerRequestMs as number)} against ${fmt(sidecar.cpuPerRequestMs as number)} ms per request; memory ${ambient.memoryMb} against ${sidecar.memoryMb} MB`,
      });
    return checks;
  },
});

function meshOptions(
  choice: MeshChoice,
  params: { unpublishedLatencyMs: number; handshakeCpuMs: number },
): ServiceMeshOptions {
  const connections = { handshakeCpu: params.handshakeCpuMs };
  const latency = params.unpublishedLatencyMs;
  switch (choice) {
    case 'ambient':
    case 'ambient-waypoint':
      return {
        mode: 'ambient',
        ztunnel: { preset: 'istio-1.24-ztunnel', latency },
        waypoint: { preset: 'istio-1.24-waypoint', latency },
        connections,
      };
    case 'istio-1.24-sidecar':
      return { sidecar: { preset: 'istio-1.24-sidecar', latency }, connections };
    default:
      return { sidecar: choice as ProxyPresetName, connections };
  }
}

function poissonArrivals(sim: Simulation, perMs: number, endMs: number, send: () => void): void {
  const rng = sim.rng('mesh-overhead/arrivals');
  const gap = exponential({ mean: 1 / perMs });
  sim.process(function* () {
    while (true) {
      yield sim.timeout(gap.sample(rng));
      if (sim.now >= endMs) return;
      send();
    }
  });
}
