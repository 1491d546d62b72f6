/**
 * CDN tiers: a caching proxy ({@link CdnCache}) for edges and origin shields, with request collapsing,
 * negative caching and stale serving; an origin responder ({@link cdnOrigin}); a topology helper that
 * wires regions, edges, a shield and an origin with an inter-region latency matrix ({@link buildCdn});
 * and the Che approximation of an LRU tier's hit ratio ({@link cheLru}).
 */
export {
  CdnCache,
  type CdnCacheOptions,
  type CdnCacheStats,
} from './cdn/cdn-cache.js';
export { type CheEstimate, cheLru } from './cdn/che.js';
export { type CdnOriginOptions, cdnOrigin } from './cdn/origin.js';
export {
  buildCdn,
  CDN_REGION_RTT_MS,
  type CdnRttMatrix,
  type CdnTierOptions,
  CdnTopology,
  type CdnTopologyOptions,
  sumCdnStats,
} from './cdn/topology.js';
export {
  type CdnHop,
  type CdnHopStatus,
  type CdnObject,
  type CdnResponse,
  isCdnObject,
} from './cdn/types.js';
