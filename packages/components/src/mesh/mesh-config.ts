import {
  checkBoolean,
  checkDistribution,
  checkDuration,
  checkEnum,
  checkName,
  checkNumber,
  checkObject,
  checkOptions,
  type Distribution,
  invalidOption,
  isObject,
  lognormal,
  nested,
  type OptionOwner,
  optionKeys,
} from '@dsim/core';
import { resolveOutlier } from '../balancer/health/outlier-options.js';
import type { LoadBalancerOptions } from '../balancer/load-balancer-options.js';
import { type BalancerPolicySpec, createBalancerPolicy } from '../balancer/policies/factory.js';
import { resolveLbRetry } from '../balancer/retry-policy.js';
import { presetPassLatency } from './latency-fit.js';
import {
  ISTIO_DEFAULT_RETRY,
  type MeshClusterOptions,
  type MeshConnectionOptions,
  type MeshProfile,
  type MeshProxyOptions,
  type MeshProxyProfile,
} from './mesh-options.js';
import {
  cpuMsPerRequest,
  type MeshProxyKind,
  PROXY_PRESET_NAMES,
  PROXY_PRESETS,
  type ProxyPresetName,
} from './proxy-presets.js';

// Validation of the mesh's options, at construction: the proxies only read resolved values.

/**
 * {@link MeshConnectionOptions}, validated, with defaults applied (durations in ms).
 *
 * @example
 * ```ts
 * const c: ResolvedConnections = resolveConnections('MeshProxy', {});
 * c.connectTimeout; // 10000
 * ```
 */
export interface ResolvedConnections {
  readonly mtls: boolean;
  readonly tlsRoundTrips: number;
  readonly handshakeCpu: number;
  readonly connectTimeout: number;
  readonly idleTimeout: number;
}

/**
 * A proxy's costs, validated, with the preset's figures filled in.
 *
 * @example
 * ```ts
 * const p: ResolvedProfile = resolveProfile('ServiceMesh', 'sidecar', 'istio-1.12.3', 'sidecar');
 * p.memoryMb; // 40
 * ```
 */
export interface ResolvedProfile {
  readonly preset: ProxyPresetName | undefined;
  readonly kind: MeshProxyKind;
  /** CPU ms per request. */
  readonly cpuPerRequest: number;
  readonly workers: number;
  /** The non-CPU wait of one pass; undefined when it is 0 (no timer). */
  readonly latency: Distribution | undefined;
  readonly memoryMb: number;
}

const CONNECTION_KEYS = optionKeys<MeshConnectionOptions>()({
  mtls: true,
  tlsRoundTrips: true,
  handshakeCpu: true,
  connectTimeout: true,
  idleTimeout: true,
});

const PROFILE_KEYS = optionKeys<MeshProxyProfile>()({
  preset: true,
  cpuPerRequest: true,
  workers: true,
  latency: true,
  memoryMb: true,
});

const PROXY_KEYS = optionKeys<MeshProxyOptions>()({
  preset: true,
  cpuPerRequest: true,
  workers: true,
  latency: true,
  memoryMb: true,
  address: true,
  kind: true,
  connections: true,
});

const CLUSTER_KEYS = optionKeys<MeshClusterOptions>()({
  retry: true,
  timeout: true,
  policy: true,
  outlierDetection: true,
});

const KINDS: readonly MeshProxyKind[] = ['sidecar', 'ztunnel', 'waypoint'];

/**
 * Checks connection options (unknown keys with "did you mean", every value) and applies the defaults.
 *
 * @example
 * ```ts
 * resolveConnections('MeshProxy', { handshakeCpu: '0.5ms' }).handshakeCpu; // 0.5
 * ```
 */
export function resolveConnections(where: OptionOwner, options: unknown): ResolvedConnections {
  if (options === undefined) options = {};
  const w = nested(where, 'connections');
  checkObject(where, 'connections', options, 'an object such as { handshakeCpu: "0.5ms" }');
  checkOptions(w.component, options, CONNECTION_KEYS, w.path);
  const o = options as MeshConnectionOptions;
  return {
    mtls: checkBoolean(w, 'mtls', o.mtls, true),
    tlsRoundTrips: checkNumber(w, 'tlsRoundTrips', o.tlsRoundTrips, { integer: true, min: 1, max: 4 }, 1),
    handshakeCpu: checkDuration(w, 'handshakeCpu', o.handshakeCpu, {}, 0),
    connectTimeout: checkDuration(w, 'connectTimeout', o.connectTimeout, { positive: true }, 10_000),
    idleTimeout: checkDuration(
      w,
      'idleTimeout',
      o.idleTimeout,
      { positive: true, infinity: true },
      3_600_000,
    ),
  };
}

/**
 * Checks a proxy profile (a preset name or {@link MeshProxyProfile}) and fills in the preset's figures.
 * A profile whose preset publishes no latency (1.24) must give `latency`; one without a preset must give
 * `cpuPerRequest` and `latency`.
 *
 * @param kind - the proxy's kind when the caller fixes it (a mesh's sidecars), else the preset's
 * @example
 * ```ts
 * resolveProfile('ServiceMesh', 'sidecar', 'istio-1.12.3').cpuPerRequest; // 0.35
 * resolveProfile('ServiceMesh', 'ztunnel', 'istio-1.24-ztunnel');
 * // ServiceMesh: ztunnel.latency must be given ...: Istio publishes no added latency for preset "istio-1.24-ztunnel" ...
 * ```
 */
export function resolveProfile(
  where: OptionOwner,
  field: string,
  profile: unknown,
  kind?: MeshProxyKind,
): ResolvedProfile {
  const w = field === '' ? where : nested(where, field);
  const spec: MeshProxyProfile =
    typeof profile === 'string'
      ? { preset: checkPreset(where, field, profile) }
      : (profile as MeshProxyProfile);
  if (!isObject(spec))
    throw invalidOption(
      where,
      field === '' ? 'options' : field,
      profile,
      `a preset name (${PROXY_PRESET_NAMES.join(', ')}) or { preset?, cpuPerRequest?, workers?, latency?, memoryMb? }`,
    );
  if (field !== '') {
    const c = nested(where, field);
    checkOptions(c.component, spec, PROFILE_KEYS, c.path);
  }
  const preset = spec.preset === undefined ? undefined : checkPreset(w, 'preset', spec.preset);
  const p = preset === undefined ? undefined : PROXY_PRESETS[preset];
  const resolvedKind = kind ?? p?.kind ?? 'sidecar';
  if (p !== undefined && kind !== undefined && p.kind !== kind)
    throw invalidOption(w, 'preset', preset, `a ${kind} preset (${presetsOf(kind)})`);
  const cpuPerRequest =
    spec.cpuPerRequest === undefined && p !== undefined
      ? cpuMsPerRequest(p.vcpuPer1000Rps)
      : checkDuration(w, 'cpuPerRequest', spec.cpuPerRequest);
  let latency: Distribution;
  if (spec.latency !== undefined)
    latency = checkDistribution(w, 'latency', spec.latency, 'lognormalFromMean(0.5, 0.5)');
  else {
    const fit = preset === undefined ? undefined : presetPassLatency(preset);
    if (fit === undefined)
      throw invalidOption(
        w,
        'latency',
        undefined,
        preset === undefined
          ? 'given when there is no preset (a distribution or a duration; 0 for the CPU time alone)'
          : `given: Istio publishes no added latency for preset "${preset}" in text (a distribution or a duration; 0 for the CPU time alone)`,
      );
    latency = lognormal({ mu: fit.mu, sigma: fit.sigma });
  }
  return {
    preset,
    kind: resolvedKind,
    cpuPerRequest,
    workers: checkNumber(w, 'workers', spec.workers, { integer: true, min: 1 }, p?.workers ?? 2),
    latency: latency.kind === 'constant' && latency.mean === 0 ? undefined : latency,
    memoryMb: checkNumber(w, 'memoryMb', spec.memoryMb, { min: 0 }, p?.memoryMb ?? 0),
  };
}

function checkPreset(where: OptionOwner, field: string, value: unknown): ProxyPresetName {
  return checkEnum(where, field === '' ? 'preset' : field, value, PROXY_PRESET_NAMES);
}

function presetsOf(kind: MeshProxyKind): string {
  return PROXY_PRESET_NAMES.filter((n) => PROXY_PRESETS[n].kind === kind).join(', ');
}

/**
 * {@link MeshProxyOptions}, validated.
 *
 * @example
 * ```ts
 * const p: ResolvedProxy = resolveProxy({ address: 'a-0.sidecar', preset: 'istio-1.12.3' });
 * ```
 */
export interface ResolvedProxy extends ResolvedProfile {
  readonly address: string;
  readonly connections: ResolvedConnections;
}

/**
 * Checks a MeshProxy's options (unknown keys first) and fills in the preset's figures.
 *
 * @example
 * ```ts
 * resolveProxy({ address: 'a-0.sidecar', preset: 'istio-1.12.3' }).workers; // 2
 * ```
 */
export function resolveProxy(options: MeshProxyOptions): ResolvedProxy {
  const C = 'MeshProxy';
  checkObject(C, 'options', options, 'an options object with address and preset');
  checkOptions(C, options, PROXY_KEYS);
  const address = checkName(C, 'address', options.address);
  const kind = options.kind === undefined ? undefined : checkEnum(C, 'kind', options.kind, KINDS);
  const { address: _a, kind: _k, connections, ...profile } = options;
  return {
    ...resolveProfile(C, '', profile, kind),
    address,
    connections: resolveConnections(C, connections),
  };
}

/**
 * The LoadBalancer options a cluster is built with (backends are added as endpoints appear).
 *
 * @example
 * ```ts
 * const c: ResolvedCluster = resolveCluster('MeshProxy', 'route(a-0, b)', {}, 'L7');
 * c.timeout; // Infinity
 * ```
 */
export type ResolvedCluster = Pick<LoadBalancerOptions, 'policy' | 'timeout' | 'retry'> & {
  readonly outlierDetection: MeshClusterOptions['outlierDetection'];
};

/**
 * Checks a cluster's options for a proxy of layer `layer` and applies Istio's defaults. An L4 proxy
 * (ztunnel) refuses retries, timeouts and outlier detection, which need L7. Values inside `retry`,
 * `policy` and `outlierDetection` are checked when the cluster is built, by the balancer and the
 * detector.
 *
 * @example
 * ```ts
 * resolveCluster('ServiceMesh', 'addService(b)', {}, 'L7').retry; // ISTIO_DEFAULT_RETRY
 * resolveCluster('ServiceMesh', 'addService(b)', { retry: { attempts: 1 } }, 'L4');
 * // ServiceMesh: addService(b).retry must be left out on an L4 route ...
 * ```
 */
export function resolveCluster(
  where: OptionOwner,
  field: string,
  options: unknown,
  layer: 'L4' | 'L7',
  extraKeys: readonly string[] = [],
): ResolvedCluster {
  if (options === undefined) options = {};
  const w = nested(where, field);
  checkObject(where, field, options, 'an object such as { retry: { attempts: 3 } }');
  checkOptions(w.component, options, [...CLUSTER_KEYS, ...extraKeys], w.path);
  const o = options as MeshClusterOptions;
  if (layer === 'L4')
    for (const key of ['retry', 'timeout', 'outlierDetection'] as const)
      if (o[key] !== undefined)
        throw invalidOption(
          w,
          key,
          o[key],
          'left out on an L4 route (ztunnel has no per-request policy: give the service a waypoint for L7 policy)',
        );
  if (o.retry !== undefined && o.retry !== false && !isObject(o.retry))
    throw invalidOption(w, 'retry', o.retry, 'false (no retries) or retry options such as { attempts: 3 }');
  if (o.outlierDetection !== undefined && !isObject(o.outlierDetection))
    throw invalidOption(
      w,
      'outlierDetection',
      o.outlierDetection,
      'outlier detection options such as { consecutive5xx: 3 }',
    );
  // The nested options are checked now, by the components that will read them, so that a mistake is
  // reported where the policy is given rather than when a route is first made.
  if (isObject(o.retry)) resolveLbRetry(o.retry);
  if (o.outlierDetection !== undefined) resolveOutlier(o.outlierDetection, 'outlier');
  if (o.policy !== undefined && !isPolicyObject(o.policy))
    createBalancerPolicy(o.policy as BalancerPolicySpec, nested(w, 'policy'));
  const retry = layer === 'L4' || o.retry === false ? undefined : (o.retry ?? ISTIO_DEFAULT_RETRY);
  return {
    policy: o.policy ?? (layer === 'L4' ? { kind: 'random' } : { kind: 'round-robin' }),
    timeout: checkDuration(w, 'timeout', o.timeout, { positive: true, infinity: true }, Infinity),
    ...(retry === undefined ? {} : { retry }),
    outlierDetection: o.outlierDetection,
  };
}

/**
 * Whether a `policy` option is a policy object (with `pick`) rather than a spec (`{ kind }`).
 *
 * @example
 * ```ts
 * isPolicyObject({ kind: 'random' }); // false
 * ```
 */
export function isPolicyObject(policy: unknown): boolean {
  return isObject(policy) && typeof (policy as { pick?: unknown }).pick === 'function';
}

/**
 * Checks a mesh profile given as an option (`sidecar`, `ztunnel`, `waypoint`).
 *
 * @example
 * ```ts
 * resolveMeshProfile('ServiceMesh', 'sidecar', 'istio-1.3.5', 'sidecar').workers; // 2
 * ```
 */
export function resolveMeshProfile(
  where: OptionOwner,
  field: string,
  profile: MeshProfile | undefined,
  kind: MeshProxyKind,
  why: string,
): ResolvedProfile {
  if (profile === undefined)
    throw invalidOption(
      where,
      field,
      profile,
      `given ${why}: a preset name (${presetsOf(kind)}) or a profile`,
    );
  return resolveProfile(where, field, profile, kind);
}
