import type { Distribution, Duration } from '@dsim/core';
import type { OutlierDetectionOptions } from '../balancer/health/outlier-options.js';
import type { BalancerPolicySpec } from '../balancer/policies/factory.js';
import type { BalancerPolicy } from '../balancer/policy.js';
import type { LoadBalancerRetryOptions } from '../balancer/retry-policy.js';
import type { MeshProxyKind, ProxyPresetName } from './proxy-presets.js';

/**
 * How a mesh proxy opens connections to other proxies. A connection is kept per upstream endpoint and
 * reused by every later request (HTTP/2 or keep-alive between proxies), so only the request that opens
 * it pays the setup: TCP's round trip, TLS's, and the handshake's CPU on both proxies.
 *
 * @example
 * ```ts
 * const connections: MeshConnectionOptions = { handshakeCpu: '0.5ms', idleTimeout: '1h' };
 * ```
 */
export interface MeshConnectionOptions {
  /**
   * Mutual TLS between proxies (Istio's automatic mTLS). Without it a connection costs TCP's round
   * trip only.
   * @default true
   */
  mtls?: boolean;
  /**
   * Round trips of the TLS handshake after TCP's: 1 for TLS 1.3's full handshake (RFC 8446 §2), 2 for
   * TLS 1.2's. An integer in [1, 4].
   * @default 1
   */
  tlsRoundTrips?: number;
  /**
   * CPU one TLS handshake costs each proxy (key exchange, signature and certificate checks), queued
   * on the proxy's workers like its requests. Istio publishes no figure; its 0.8 sizing guide calls
   * mTLS's costs "negligible on AES-NI capable hardware". A duration >= 0.
   * @default 0
   */
  handshakeCpu?: Duration;
  /**
   * How long a new connection may take before it fails (Istio's DestinationRule
   * `connectionPool.tcp.connectTimeout`, default 10 s): its waiting requests fail `unavailable`
   * (Envoy's connect failure, 503 UF). A duration > 0.
   * @default 10000
   */
  connectTimeout?: Duration;
  /**
   * A connection with no request for this long is closed; the next request opens a new one (Istio's
   * DestinationRule `connectionPool.http.idleTimeout`, default 1 h). A duration > 0 or Infinity.
   * @default 3600000
   */
  idleTimeout?: Duration;
}

/**
 * A proxy's costs: a preset's published figures, each of which can be overridden, or figures of one's
 * own. See {@link PROXY_PRESETS}.
 *
 * @example
 * ```ts
 * const profile: MeshProxyProfile = { preset: 'istio-1.24-sidecar', latency: lognormalFromMean(0.5, 0.5) };
 * ```
 */
export interface MeshProxyProfile {
  /** The published figures the others default to. @default none (then `cpuPerRequest` and `latency` are required) */
  preset?: ProxyPresetName;
  /**
   * CPU time one request costs the proxy, on one of its workers: the preset's vCPU per 1000 requests
   * per second read as ms per request. A duration >= 0.
   * @default the preset's
   */
  cpuPerRequest?: Duration;
  /**
   * Worker threads: the proxy saturates at `workers / cpuPerRequest` requests per ms. An integer >= 1.
   * @default the preset's (2), else 2 (Istio's default proxy concurrency)
   */
  workers?: number;
  /**
   * Added latency of one pass through the proxy besides its CPU time (a distribution or a duration).
   * Default: the lognormal fitted to the preset's published hop latency (see `fitPassLatency`);
   * required when the preset publishes none (1.24) or there is no preset. 0 leaves the CPU time alone.
   * @default the preset's fit
   */
  latency?: Distribution | Duration;
  /** Resident memory of one proxy, MB: reported, not simulated. A number >= 0. @default the preset's, else 0 */
  memoryMb?: number;
}

/**
 * A proxy given in a mesh: a preset's name, or a {@link MeshProxyProfile}.
 *
 * @example
 * ```ts
 * const sidecar: MeshProfile = 'istio-1.12.3';
 * ```
 */
export type MeshProfile = ProxyPresetName | MeshProxyProfile;

/**
 * Options of a {@link MeshProxy}: its costs, its node's address and how it connects.
 *
 * @example
 * ```ts
 * const options: MeshProxyOptions = { address: 'a-0.sidecar', preset: 'istio-1.12.3' };
 * ```
 */
export interface MeshProxyOptions extends MeshProxyProfile {
  /** The address of the proxy's node (created): its inbound listener. A non-empty string. */
  address: string;
  /**
   * What it is: `sidecar` and `waypoint` are L7 proxies (their routes retry, time out, eject
   * outliers); `ztunnel` is L4 only.
   * @default the preset's kind, else 'sidecar'
   */
  kind?: MeshProxyKind;
  /** Connection setup between proxies. @default {} (mTLS, TLS 1.3, no handshake CPU, 10 s connect timeout, 1 h idle timeout) */
  connections?: MeshConnectionOptions;
}

/**
 * Where a proxy's route for a service sends its requests, Envoy's cluster: the Istio
 * VirtualService's retry and timeout and the DestinationRule's load balancer and outlier detection.
 * The defaults are Istio's. Retries, timeouts and outlier detection are L7: an L4 proxy (ztunnel)
 * refuses them.
 *
 * @example
 * ```ts
 * const cluster: MeshClusterOptions = { retry: { attempts: 3 }, outlierDetection: { consecutive5xx: 3 } };
 * ```
 */
export interface MeshClusterOptions {
  /**
   * Retries by the proxy (see {@link LoadBalancerRetryOptions}): Istio's default, {@link ISTIO_DEFAULT_RETRY},
   * when left out; `false` for none (a VirtualService with `attempts: 0`). An L4 proxy never retries.
   * @default ISTIO_DEFAULT_RETRY (L7), none (L4)
   */
  retry?: LoadBalancerRetryOptions | false;
  /**
   * The route timeout over all attempts. Istio sets none by default (its routes have `timeout: 0s`,
   * disabled). A duration > 0 or Infinity.
   * @default Infinity
   */
  timeout?: Duration;
  /**
   * How an endpoint is picked per request (see `createBalancerPolicy`). ztunnel picks one per
   * connection; dsim's requests carry no application connection, so an L4 proxy picks per request.
   * @default { kind: 'round-robin' } (L7), { kind: 'random' } (L4)
   */
  policy?: BalancerPolicySpec | BalancerPolicy;
  /**
   * Passive outlier detection (a DestinationRule's `outlierDetection`, Envoy's names and defaults, see
   * {@link OutlierDetectionOptions}). Istio enables none unless a DestinationRule asks.
   * @default none
   */
  outlierDetection?: OutlierDetectionOptions;
}

/**
 * Istio's default HTTP retry policy, as istiod writes it into every sidecar route
 * (`pilot/pkg/networking/core/route/retry/retry.go`, `DefaultPolicy`): `num_retries: 2`,
 * `retry_on: connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes` with
 * `retriable_status_codes: [503]`, the `previous_hosts` predicate with
 * `host_selection_retry_max_attempts: 5`, and Envoy's default backoff (25 ms base, 250 ms cap). In
 * dsim's error kinds: a connect failure, a refused stream and a 503 are `unavailable` or `overloaded`;
 * a 500 (`error`), a 504 (`gateway-timeout`) and a per-try timeout are not retried. Istio's
 * DestinationRule `maxRetries` defaults to 2^32 − 1, so the concurrent-retry limit is off.
 *
 * dsim has one kind for a connection reset and a 503, so a request cut by a reset is retried here,
 * where Istio's list (no `reset`) would not retry it.
 *
 * @example
 * ```ts
 * ISTIO_DEFAULT_RETRY.attempts; // 2: up to 3 attempts per request
 * ```
 */
export const ISTIO_DEFAULT_RETRY: Readonly<LoadBalancerRetryOptions> = Object.freeze({
  attempts: 2,
  retryOn: Object.freeze(['unavailable', 'overloaded'] as const),
  previousHosts: true,
  hostSelectionAttempts: 5,
  maxConcurrentRetries: Infinity,
  backoff: Object.freeze({ kind: 'envoy' as const, baseMs: 25, maxMs: 250 }),
});

/**
 * How a {@link ServiceMesh} places its proxies: `sidecar`, a proxy beside every instance; `ambient`,
 * a ztunnel per host shared by its instances, and a waypoint for the services that need L7 policy.
 *
 * @example
 * ```ts
 * const mode: MeshMode = 'ambient';
 * ```
 */
export type MeshMode = 'sidecar' | 'ambient';

/**
 * Options of a {@link ServiceMesh}. The proxy profile of the mode is required: in `sidecar` mode
 * `sidecar`; in `ambient` mode `ztunnel`, and `waypoint` once a service asks for one.
 *
 * @example
 * ```ts
 * const sidecars: ServiceMeshOptions = { mode: 'sidecar', sidecar: 'istio-1.12.3' };
 * const ambient: ServiceMeshOptions = {
 *   mode: 'ambient',
 *   ztunnel: { preset: 'istio-1.24-ztunnel', latency: 0 },
 *   waypoint: { preset: 'istio-1.24-waypoint', latency: 0 },
 * };
 * ```
 */
export interface ServiceMeshOptions {
  /** Sidecars or ambient mode. @default 'sidecar' */
  mode?: MeshMode;
  /** The sidecars' profile (sidecar mode). */
  sidecar?: MeshProfile;
  /** The ztunnels' profile (ambient mode). */
  ztunnel?: MeshProfile;
  /** The waypoints' profile (ambient mode, services with `waypoint: true`). */
  waypoint?: MeshProfile;
  /** Connection setup between every pair of proxies. @default {} */
  connections?: MeshConnectionOptions;
}

/**
 * A service's routing policy in a {@link ServiceMesh}: its cluster options, and in ambient mode
 * whether it has a waypoint (without one its traffic is L4 only: no retries, timeouts or outlier
 * detection).
 *
 * @example
 * ```ts
 * mesh.addService('ratings', { retry: { attempts: 0 } }); // a VirtualService turning retries off
 * ```
 */
export interface MeshServiceOptions extends MeshClusterOptions {
  /** Ambient mode: a waypoint proxy applies the service's L7 policy. @default false */
  waypoint?: boolean;
}

/**
 * Options of `ServiceMesh.addInstance`.
 *
 * @example
 * ```ts
 * mesh.addInstance('b', 'b-0', { host: 'node-2' });
 * ```
 */
export interface MeshInstanceOptions {
  /** Ambient mode: the host whose ztunnel serves the instance (required there; refused in sidecar mode). */
  host?: string;
}
