import { EVICTION_KINDS } from '@dsim/components';
import { z } from 'zod';
import { type DurationData, distributionSchema, durationMs, durationSchema } from './distributions.js';

const int = (min: number) => z.int().min(min);

/** Whether a duration is > 0 ms; true when it is no duration (durationSchema reports that). */
function positive(d: unknown): boolean {
  try {
    return durationMs(d as DurationData) > 0;
  } catch {
    return true;
  }
}

const positiveDuration = durationSchema.refine(positive, { error: 'must be a duration > 0' });

/**
 * One tier of a cdn node: a CdnCache's options without `upstream` (the compiler sets it). The defaults
 * are the component's (CloudFront's, where it has one).
 */
const tierShape = {
  /** Cache capacity in `unit`s (CdnCache `capacity`). */
  capacity: int(1),
  /** `entries` (every object weighs 1) or `bytes` (each weighs its `objectSize`). @default 'entries' */
  unit: z.enum(['entries', 'bytes']).optional(),
  /** Eviction policy (CdnCache `eviction: { kind }`). @default 'lru' */
  eviction: z.enum(EVICTION_KINDS as unknown as [string, ...string[]]).optional(),
  /** Freshness of a stored object (CdnCache `ttl`; the origin sends no `maxAge`). @default 24 h (CloudFront's default TTL) */
  ttl: positiveDuration.optional(),
  /** Spread of each TTL, drawn in ttl·[1 − jitter, 1 + jitter] (CdnCache `ttlJitter`), in [0, 1). @default 0 */
  ttlJitter: z.number().min(0).lt(1).optional(),
  /**
   * RFC 5861 `stale-while-revalidate` (CdnCache `staleWhileRevalidate`): for this long after an object
   * expires it is served at once while one background fetch refreshes it.
   * @default 0 (off)
   */
  staleWhileRevalidate: durationSchema.optional(),
  /**
   * RFC 5861 `stale-if-error` (CdnCache `staleIfError`): for this long after an object expires, a miss
   * whose upstream fails is answered with the expired copy.
   * @default 0 (off)
   */
  staleIfError: durationSchema.optional(),
  /** Time spent on each answer, on the node's CPU; answers are concurrent (CdnCache `serviceTime`). @default 0 */
  serviceTime: distributionSchema.optional(),
  /** Request collapsing: concurrent misses of one object make one upstream fetch (CdnCache `collapse`). @default true */
  collapse: z.boolean().optional(),
  /** How long a fetch waits for upstream before it fails, a 504 (CdnCache `upstreamTimeout`). @default 30 s (CloudFront's origin response timeout) */
  upstreamTimeout: positiveDuration.optional(),
  /** Bytes of every object, what a `bytes` cache charges (CdnCache `objectSize`). @default 1 */
  objectSize: z.number().min(0).optional(),
  /** The cache survives a crash and restart, a disk cache (CdnCache `persistent`). @default false (a restart is cold) */
  persistent: z.boolean().optional(),
};

const tierSchema = z.strictObject(tierShape);

/**
 * A CDN in front of an origin node of the system: `pops` edge PoPs (a CdnCache each, named `<name>-0`
 * ... when more than one), optionally an origin shield (`<name>-shield`) that every PoP fetches through.
 * Clients that target the cdn send their `keys` as object paths; its misses go to `origin`.
 */
export const cdnSchema = z.strictObject({
  kind: z.literal('cdn'),
  /** The node misses are fetched from: a service or database (or a balancer in front of replicas). */
  origin: z.string().min(1, { error: 'must be a node name' }),
  /**
   * Edge PoPs. Clients that target the cdn by its name reach the PoP a hash of the object's key picks
   * (each object lives on one PoP); a clients node that targets a PoP's address (`<name>-1`) always
   * goes to that one (clients near it).
   * @default 1
   */
  pops: int(1).max(1000).optional(),
  /** The cache of every PoP. */
  edge: tierSchema,
  /**
   * An origin shield (`<name>-shield`): a mid tier every PoP fetches through, so the origin sees one miss
   * stream (CloudFront Origin Shield, Fastly shielding).
   * @default none (the PoPs fetch from the origin)
   */
  shield: tierSchema.optional(),
  /** Region of every PoP and of the shield, for `network.regions`. @default none */
  region: z.string().min(1).optional(),
});

/** A cdn node of a system. */
export type CdnDescription = z.infer<typeof cdnSchema>;
/** One tier (edge or shield) of a cdn node. */
export type CdnTierDescription = z.infer<typeof tierSchema>;

/**
 * The network addresses of a cdn node: its PoPs (`<name>` for one, else `<name>-0` ...), then its
 * shield (`<name>-shield`) if it has one.
 *
 * @example
 * ```ts
 * cdnAddresses('cdn', { kind: 'cdn', origin: 'app', pops: 2, edge: { capacity: 100 }, shield: { capacity: 1000 } });
 * // ['cdn-0', 'cdn-1', 'cdn-shield']
 * ```
 */
export function cdnAddresses(name: string, node: CdnDescription): string[] {
  const n = node.pops ?? 1;
  const pops = n === 1 ? [name] : Array.from({ length: n }, (_, i) => `${name}-${i}`);
  return node.shield === undefined ? pops : [...pops, `${name}-shield`];
}

/** The PoP addresses of a cdn node (its addresses without the shield). */
export function cdnPops(name: string, node: CdnDescription): string[] {
  const all = cdnAddresses(name, node);
  return node.shield === undefined ? all : all.slice(0, -1);
}
