/**
 * An object as a CDN tier stores and forwards it: what an origin answers for a path, and what a
 * {@link CdnCache} keeps in its cache.
 *
 * @example
 * ```ts
 * const logo: CdnObject = { key: '/img/logo.png', status: 200, size: 12_345, body: null, maxAge: 86_400_000 };
 * ```
 */
export interface CdnObject {
  /** The object's path (the cache key). */
  readonly key: string;
  /** 200: found; 404: not found (cached as a negative entry for the tier's `negativeTtl`). */
  readonly status: 200 | 404;
  /** Bytes of the body: what a `bytes` cache charges and what `bytesServed` counts. A number >= 0. */
  readonly size: number;
  /** The payload, opaque to the CDN. */
  readonly body: unknown;
  /**
   * Freshness the origin asks for, in ms (`Cache-Control: s-maxage`): overrides the tier's `ttl`; 0 means
   * do not store (`no-store`). The `Age` of a copy that comes from another tier is not subtracted.
   * @default the tier's ttl
   */
  readonly maxAge?: number;
}

/**
 * What one tier did for a request, like one entry of Fastly's `X-Cache: MISS, HIT` header or
 * CloudFront's `X-Cache: Hit from cloudfront`:
 * - `hit`: a fresh copy was in the cache;
 * - `negative`: a cached 404;
 * - `stale`: an expired copy served at once while one background fetch revalidates it
 *   (`stale-while-revalidate`);
 * - `miss`: this request made the upstream fetch;
 * - `collapsed`: a miss that joined the fetch another request had already started (request collapsing);
 * - `stale-if-error`: a miss whose upstream failed, answered with the expired copy (`stale-if-error`).
 *
 * @example
 * ```ts
 * const status: CdnHopStatus = 'collapsed';
 * ```
 */
export type CdnHopStatus = 'hit' | 'negative' | 'stale' | 'miss' | 'collapsed' | 'stale-if-error';

/**
 * One tier on the path of a response: its address and what it did.
 *
 * @example
 * ```ts
 * const hop: CdnHop = { node: 'edge-eu-west', status: 'miss' };
 * ```
 */
export interface CdnHop {
  /** Address of the tier. */
  readonly node: string;
  readonly status: CdnHopStatus;
}

/**
 * The answer of a {@link CdnCache}: the object, and the path it took through the tiers, the client-facing
 * tier first (the origin is not a hop). A response whose first hop is `hit` never left the edge.
 *
 * @example
 * ```ts
 * const res = yield* client.call<CdnResponse>('edge-us-east', '/index.html', { key: '/index.html' });
 * if (res.ok && res.value.via[0]?.status === 'hit') sim.log('edge hit');
 * ```
 */
export interface CdnResponse extends CdnObject {
  /** The tiers the request went through, nearest first, e.g. edge `miss` then shield `hit`. */
  readonly via: readonly CdnHop[];
}

/**
 * Whether `value` has the shape of a {@link CdnObject} (a status of 200 or 404 and a numeric size). An
 * upstream answer that is not one is taken as a 200 whose body is the value.
 *
 * @example
 * ```ts
 * isCdnObject({ key: '/a', status: 404, size: 0, body: null }); // true
 * isCdnObject('hello'); // false
 * ```
 */
export function isCdnObject(value: unknown): value is CdnObject {
  if (value === null || typeof value !== 'object') return false;
  const v = value as { status?: unknown; size?: unknown; key?: unknown };
  return (v.status === 200 || v.status === 404) && typeof v.size === 'number' && typeof v.key === 'string';
}
