/**
 * What kind of mesh proxy a preset describes:
 *
 * - `sidecar`: an Envoy beside every service instance (L7: routing, retries, outlier detection);
 * - `ztunnel`: Istio ambient mode's per-node proxy (L4 only: mTLS tunnels, no per-request policy);
 * - `waypoint`: ambient mode's optional Envoy for a service's L7 policy.
 *
 * @example
 * ```ts
 * const kind: MeshProxyKind = 'ztunnel';
 * ```
 */
export type MeshProxyKind = 'sidecar' | 'ztunnel' | 'waypoint';

/**
 * A published added latency of one service-to-service hop: the client-side and the server-side proxy
 * together, over the same requests without a mesh.
 *
 * @example
 * ```ts
 * const hop: PublishedHopLatency = { p90: 1.7, p99: 2.7 };
 * ```
 */
export interface PublishedHopLatency {
  /** Added latency at the 90th percentile, ms. */
  readonly p90: number;
  /** Added latency at the 99th percentile, ms; undefined when not published. */
  readonly p99?: number;
}

/**
 * One proxy's published resource costs (a row of Istio's "Performance and Scalability" page), from
 * which a {@link MeshProxy} takes its defaults.
 *
 * @example
 * ```ts
 * const p = PROXY_PRESETS['istio-1.12.3'];
 * p.vcpuPer1000Rps; // 0.35: 0.35 ms of CPU per request through the proxy
 * ```
 */
export interface ProxyPreset {
  readonly kind: MeshProxyKind;
  /** vCPU the proxy uses per 1000 requests per second going through it; × 1 ms = CPU ms per request. */
  readonly vcpuPer1000Rps: number;
  /** Resident memory of one proxy, MB (reported, not simulated). */
  readonly memoryMb: number;
  /** Worker threads of the measured proxy. */
  readonly workers: number;
  /** The published added latency of one hop (both proxies), or undefined when none is published in text. */
  readonly hop: PublishedHopLatency | undefined;
  /**
   * With only a p90 published: the preset whose fitted spread (the lognormal's sigma) is borrowed to
   * place the tail, an assumption stated here rather than a published figure.
   */
  readonly spreadFrom?: ProxyPresetName;
  /** Where the figures come from. */
  readonly source: string;
}

/**
 * The names of {@link PROXY_PRESETS}.
 *
 * @example
 * ```ts
 * const preset: ProxyPresetName = 'istio-1.12.3';
 * ```
 */
export type ProxyPresetName =
  | 'istio-1.3.5'
  | 'istio-1.12.3'
  | 'istio-1.24-sidecar'
  | 'istio-1.24-waypoint'
  | 'istio-1.24-ztunnel';

/**
 * Istio's published data-plane costs, per version ("Performance and Scalability",
 * https://istio.io/<version>/docs/ops/deployment/performance-and-scalability/; 1.3 under
 * /docs/concepts/). Every load test: 1000 services, 2000 sidecars (1.24: pods), 70 000 mesh-wide
 * requests per second; the latency figures come from the Istio benchmark at 1000 requests per second,
 * 1 kB payloads, 16 client connections, 2 proxy workers and mutual TLS. Only what the pages state in
 * text is kept:
 *
 * | preset | kind | vCPU per 1000 rps | memory | added latency of one hop |
 * |---|---|---|---|---|
 * | `istio-1.3.5` | sidecar | 0.6 | 50 MB | 7 ms at p90 |
 * | `istio-1.12.3` | sidecar | 0.35 | 40 MB | 1.7 ms at p90, 2.7 ms at p99 (the page's summary also says 2.65 ms at p90) |
 * | `istio-1.24-sidecar` | sidecar, 2 workers | 0.20 | 60 MB | not published in text |
 * | `istio-1.24-waypoint` | waypoint, 2 workers | 0.25 | 60 MB | not published in text |
 * | `istio-1.24-ztunnel` | ztunnel | 0.06 | 12 MB | not published in text |
 *
 * The 1.12.3 latency section states that "the two proxies add about 1.7 ms and 2.7 ms to the 90th and
 * 99th percentile latency" (client-side and server-side proxy of one hop); its summary line ("adds 2.65
 * ms to the 90th percentile") disagrees, and the preset uses the section, which gives both quantiles
 * and says what it measures. 1.3.5 publishes only a p90, read as a hop (the same benchmark). For 1.24
 * the latency is only in charts, so those presets carry none: a proxy built from them must be given its
 * latency. ztunnel's 2 worker threads are its default (`ZTUNNEL_WORKER_THREADS`, ztunnel
 * `src/config.rs`); the others are the benchmark's. Other meshes publish figures that disagree with
 * each other (Linkerd's own 2021 benchmark against independent measurements), so a preset is a
 * starting point and every figure can be overridden.
 *
 * @example
 * ```ts
 * PROXY_PRESETS['istio-1.24-ztunnel'].vcpuPer1000Rps; // 0.06
 * ```
 */
export const PROXY_PRESETS: Readonly<Record<ProxyPresetName, ProxyPreset>> = Object.freeze({
  'istio-1.3.5': Object.freeze({
    kind: 'sidecar',
    vcpuPer1000Rps: 0.6,
    memoryMb: 50,
    workers: 2,
    hop: Object.freeze({ p90: 7 }),
    spreadFrom: 'istio-1.12.3',
    source: 'Istio 1.3 "Performance and Scalability", summary for 1.3.5',
  }),
  'istio-1.12.3': Object.freeze({
    kind: 'sidecar',
    vcpuPer1000Rps: 0.35,
    memoryMb: 40,
    workers: 2,
    hop: Object.freeze({ p90: 1.7, p99: 2.7 }),
    source: 'Istio 1.12 "Performance and Scalability", summary and "Latency for Istio 1.12.3"',
  }),
  'istio-1.24-sidecar': Object.freeze({
    kind: 'sidecar',
    vcpuPer1000Rps: 0.2,
    memoryMb: 60,
    workers: 2,
    hop: undefined,
    source: 'Istio 1.24 "Performance and Scalability", sidecar with 2 worker threads, 1 kB payloads',
  }),
  'istio-1.24-waypoint': Object.freeze({
    kind: 'waypoint',
    vcpuPer1000Rps: 0.25,
    memoryMb: 60,
    workers: 2,
    hop: undefined,
    source: 'Istio 1.24 "Performance and Scalability", waypoint with 2 worker threads, 1 kB payloads',
  }),
  'istio-1.24-ztunnel': Object.freeze({
    kind: 'ztunnel',
    vcpuPer1000Rps: 0.06,
    memoryMb: 12,
    workers: 2,
    hop: undefined,
    source: 'Istio 1.24 "Performance and Scalability", ztunnel, 1 kB payloads',
  }),
});

/**
 * The preset names, in version order.
 *
 * @example
 * ```ts
 * PROXY_PRESET_NAMES[0]; // 'istio-1.3.5'
 * ```
 */
export const PROXY_PRESET_NAMES: readonly ProxyPresetName[] = Object.freeze(
  Object.keys(PROXY_PRESETS) as ProxyPresetName[],
);

/**
 * CPU time one request costs a proxy, ms: vCPU per 1000 requests per second is CPU-ms per ms per 1000
 * requests per 1000 ms, so the figure itself (0.35 vCPU → 0.35 ms of CPU per request).
 *
 * @example
 * ```ts
 * cpuMsPerRequest(0.35); // 0.35
 * ```
 */
export function cpuMsPerRequest(vcpuPer1000Rps: number): number {
  // vCPU × 1000 ms of CPU per second, shared by 1000 requests in that second.
  return (vcpuPer1000Rps * 1000) / 1000;
}
