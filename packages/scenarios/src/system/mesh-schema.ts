import { PROXY_PRESET_NAMES, type ProxyPresetName } from '@dsim/components';
import { didYouMean } from '@dsim/core';
import { z } from 'zod';
import { lbRetrySchema, outlierSchema, policySchema } from './balancer-schema.js';
import { distributionSchema, durationSchema, durationWithin } from './distributions.js';

// The system's service mesh (ServiceMesh): every field maps onto one ServiceMeshOptions field, or onto
// the routing policy every meshed service is added with (MeshServiceOptions). Defaults are the
// component's (Istio's); the schema checks shapes, mesh-check.ts the rules between fields.

const positiveDuration = durationSchema.refine((d) => durationWithin(d, 0, Number.POSITIVE_INFINITY, true), {
  error: 'must be a duration > 0',
});

/** A proxy preset's name (PROXY_PRESETS), with a guess for a near miss. */
const presetSchema = z.string().refine((p) => (PROXY_PRESET_NAMES as readonly string[]).includes(p), {
  error: (iss) => {
    const guess = typeof iss.input === 'string' ? didYouMean(iss.input, PROXY_PRESET_NAMES) : undefined;
    return `must be a proxy preset: ${PROXY_PRESET_NAMES.join(', ')}${guess === undefined ? '' : ` (did you mean "${guess}"?)`}`;
  },
});

/**
 * A proxy's costs (MeshProfile): a preset's name, or `{ preset?, cpuPerRequest?, workers?, latency?,
 * memoryMb? }` overriding its figures. A preset that publishes no added latency (the 1.24 ones) needs
 * `latency`.
 */
export const meshProfileSchema = z.union([
  presetSchema,
  z.strictObject({
    /** The published figures the others default to. @default none (then cpuPerRequest and latency are required) */
    preset: presetSchema.optional(),
    /** CPU per request per pass, on one of the proxy's workers. @default the preset's vCPU per 1000 rps, as ms */
    cpuPerRequest: durationSchema.optional(),
    /** Worker threads. @default the preset's (2) */
    workers: z.int().min(1).optional(),
    /** Added latency of one pass besides its CPU. @default the lognormal fitted to the preset's published hop latency */
    latency: distributionSchema.optional(),
    /** Memory of one proxy, MB (reported). @default the preset's */
    memoryMb: z.number().min(0).optional(),
  }),
]);

/**
 * A service mesh over the system's services and databases (ServiceMesh): their calls to each other go
 * through the mesh's proxies.
 */
export const meshSchema = z.strictObject({
  /** `sidecar`: a proxy beside every instance; `ambient`: a ztunnel per instance's host. @default 'sidecar' */
  mode: z.enum(['sidecar', 'ambient']).optional(),
  /** Sidecar mode: every sidecar's costs (required there). @default none */
  sidecar: meshProfileSchema.optional(),
  /** Ambient mode: every ztunnel's costs (required there). @default none */
  ztunnel: meshProfileSchema.optional(),
  /** Ambient mode with `waypoints`: every waypoint's costs. @default none */
  waypoint: meshProfileSchema.optional(),
  /** Ambient mode: a waypoint per meshed service, where its L7 policy applies. @default false */
  waypoints: z.boolean().optional(),
  /**
   * The service and database nodes in the mesh (a replicated service with all its replicas).
   * @default every service and database
   */
  services: z
    .array(z.string().min(1, { error: 'must be a node name' }))
    .min(1)
    .optional(),
  /**
   * Retries by the proxies (Istio's VirtualService retries): `false` for none, or options laid over
   * ISTIO_DEFAULT_RETRY (2 retries of `unavailable` and `overloaded`, Envoy's backoff). L7 only.
   * @default ISTIO_DEFAULT_RETRY (sidecars, waypoints); none (ztunnels alone)
   */
  retry: z.union([z.literal(false), lbRetrySchema]).optional(),
  /** The route timeout over all attempts (a VirtualService's `timeout`). L7 only. @default none */
  timeout: positiveDuration.optional(),
  /** How an instance is picked (a DestinationRule's load balancer). @default round-robin (L7), random (L4) */
  policy: policySchema.optional(),
  /** A DestinationRule's outlier detection (Envoy's names and defaults). L7 only. @default none */
  outlierDetection: outlierSchema.optional(),
  /** Connection setup between proxies (mTLS, handshakes, timeouts). @default mTLS over TLS 1.3, no handshake CPU */
  connections: z
    .strictObject({
      /** Mutual TLS between proxies. @default true */
      mtls: z.boolean().optional(),
      /** TLS round trips after TCP's (1: TLS 1.3, 2: TLS 1.2). @default 1 */
      tlsRoundTrips: z.int().min(1).max(4).optional(),
      /** CPU one TLS handshake costs each proxy. @default 0 */
      handshakeCpu: durationSchema.optional(),
      /** How long a new connection may take before it fails (`unavailable`). @default 10 s */
      connectTimeout: positiveDuration.optional(),
      /** A connection idle this long is closed. @default 1 h */
      idleTimeout: positiveDuration.optional(),
    })
    .optional(),
});

/** The mesh of a system description. */
export type MeshDescription = z.infer<typeof meshSchema>;
/** One proxy profile of a mesh. */
export type MeshProfileDescription = z.infer<typeof meshProfileSchema>;

/** The preset a profile names, if any. */
export function profilePreset(p: MeshProfileDescription): ProxyPresetName | undefined {
  return (typeof p === 'string' ? p : p.preset) as ProxyPresetName | undefined;
}
