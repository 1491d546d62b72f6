import {
  checkFunction,
  type Duration,
  durationMs,
  invalidArgument,
  invalidOption,
  optionKeys,
  owner,
  type RpcRequest,
  requireOptions,
  toMs,
} from '@dsim/core';
import type { CdnObject } from './types.js';

/**
 * Options of {@link cdnOrigin}: what the origin knows about its objects.
 *
 * @example
 * ```ts
 * const options: CdnOriginOptions = { size: (key) => (key.endsWith('.mp4') ? 5_000_000 : 20_000), maxAge: '1h' };
 * ```
 */
export interface CdnOriginOptions {
  /**
   * Bytes of an object: a number >= 0, or a function of its path.
   * @default 1
   */
  readonly size?: number | ((key: string) => number);
  /**
   * Whether an object exists; a missing one is answered with a 404.
   * @default every object exists
   */
  readonly exists?: (key: string) => boolean;
  /**
   * Freshness the origin sends with each object (`Cache-Control: s-maxage`), overriding the tiers' TTL:
   * a duration (0: `no-store`), or a function of the path.
   * @default none (each tier uses its own ttl)
   */
  readonly maxAge?: Duration | ((key: string) => Duration);
  /**
   * The body of an object.
   * @default null
   */
  readonly body?: (key: string) => unknown;
}

/** Every key of {@link CdnOriginOptions}. @internal */
export const CDN_ORIGIN_KEYS = optionKeys<CdnOriginOptions>()({
  size: true,
  exists: true,
  maxAge: true,
  body: true,
});

/**
 * Builds the `respond` function of an origin {@link Service}: it answers a request for a path (the
 * request's key, or its string payload) with a {@link CdnObject}. Put it on a `Service` to give the origin
 * workers, a queue and a service time.
 *
 * @example
 * ```ts
 * new Service(net.addNode('origin'), {
 *   concurrency: 64,
 *   serviceTime: lognormalFromMean(50, 0.5),
 *   respond: cdnOrigin({ size: 20_000, exists: (key) => !key.startsWith('/missing') }),
 * });
 * ```
 */
export function cdnOrigin(options: CdnOriginOptions = {}): (request: RpcRequest) => CdnObject {
  const where = owner('cdnOrigin');
  requireOptions(where, options, CDN_ORIGIN_KEYS);
  const { size = 1, maxAge } = options;
  if (!(typeof size === 'function' || (typeof size === 'number' && Number.isFinite(size) && size >= 0)))
    throw invalidOption(where, 'size', size, 'a number of bytes >= 0 or a function (key) => bytes');
  const exists =
    options.exists === undefined
      ? undefined
      : checkFunction<(key: string) => boolean>(where, 'exists', options.exists, '(key) => boolean');
  const body =
    options.body === undefined
      ? undefined
      : checkFunction<(key: string) => unknown>(where, 'body', options.body, '(key) => body');
  const fixedAge =
    maxAge === undefined || typeof maxAge === 'function' ? undefined : durationMs(where, 'maxAge', maxAge);
  return (request) => {
    const key = request.key ?? (typeof request.payload === 'string' ? request.payload : undefined);
    if (key === undefined) throw invalidArgument('cdnOrigin: request key', key, 'an object path');
    if (exists !== undefined && !exists(key)) return { key, status: 404, size: 0, body: null };
    const bytes = typeof size === 'number' ? size : size(key);
    if (!(typeof bytes === 'number' && Number.isFinite(bytes) && bytes >= 0))
      throw invalidArgument(`cdnOrigin: size(${JSON.stringify(key)})`, bytes, 'a number of bytes >= 0');
    const value = body === undefined ? null : body(key);
    const age =
      typeof maxAge === 'function'
        ? toMs(maxAge(key), `cdnOrigin: maxAge(${JSON.stringify(key)})`)
        : fixedAge;
    return age === undefined
      ? { key, status: 200, size: bytes, body: value }
      : { key, status: 200, size: bytes, body: value, maxAge: age };
  };
}
