import type { Scenario } from '../scenario.js';
import { adaptiveConcurrency } from './adaptive-concurrency.js';
import { apiGateway } from './api-gateway.js';
import { autoscaling } from './autoscaling.js';
import { availabilityMath } from './availability-math.js';
import { backoffJitter } from './backoff-jitter.js';
import { backpressure } from './backpressure.js';
import { bulkhead } from './bulkhead.js';
import { cacheFlush } from './cache-flush.js';
import { cacheStampede } from './cache-stampede.js';
import { capacityPlanning } from './capacity-planning.js';
import { cdn } from './cdn.js';
import { circuitBreaker } from './circuit-breaker.js';
import { connectionDraining } from './connection-draining.js';
import { connectionPoolExhaustion } from './connection-pool-exhaustion.js';
import { consumerLag } from './consumer-lag.js';
import { consumerRebalance } from './consumer-rebalance.js';
import { deliveryGuarantees } from './delivery-guarantees.js';
import { discoveryStaleness } from './discovery-staleness.js';
import { distributedCache } from './distributed-cache.js';
import { distributedRateLimit } from './distributed-rate-limit.js';
import { eventSourcingCqrs } from './event-sourcing-cqrs.js';
import { evictionPolicies } from './eviction-policies.js';
import { gcDeathSpiral } from './gc-death-spiral.js';
import { goodputCollapse } from './goodput-collapse.js';
import { hashAffinity } from './hash-affinity.js';
import { healthChecks } from './health-checks.js';
import { kafkaDurability } from './kafka-durability.js';
import { l4VsL7 } from './l4-vs-l7.js';
import { lbAlgorithms } from './lb-algorithms.js';
import { leastConnBlackHole } from './least-conn-black-hole.js';
import { meshOverhead } from './mesh-overhead.js';
import { mmc } from './mmc.js';
import { monolithVsMicroservices } from './monolith-vs-microservices.js';
import { poisonMessage } from './poison-message.js';
import { prefetch } from './prefetch.js';
import { rateLimiting } from './rate-limiting.js';
import { retryStorm } from './retry-storm.js';
import { saga } from './saga.js';
import { serviceBoundaries } from './service-boundaries.js';
import { sloBurnAlerts } from './slo-burn-alerts.js';
import { slowStart } from './slow-start.js';
import { staleLoadHerding } from './stale-load-herding.js';
import { stranglerFig } from './strangler-fig.js';
import { tailAtScale } from './tail-at-scale.js';
import { thunderingHerd } from './thundering-herd.js';
import { timeoutCascade } from './timeout-cascade.js';
import { writePolicies } from './write-policies.js';

export { adaptiveConcurrency } from './adaptive-concurrency.js';
export { apiGateway } from './api-gateway.js';
export { autoscaling, steadyReplicas } from './autoscaling.js';
export { availabilityMath } from './availability-math.js';
export { BROOKER_100_CLIENTS, backoffJitter } from './backoff-jitter.js';
export { backpressure } from './backpressure.js';
export { bulkhead } from './bulkhead.js';
export {
  type CacheFlushModel,
  type CacheFlushTheory,
  cacheFlush,
  cacheFlushTheory,
} from './cache-flush.js';
export { cacheStampede } from './cache-stampede.js';
export { capacityPlanning } from './capacity-planning.js';
export { cdn } from './cdn.js';
export { circuitBreaker } from './circuit-breaker.js';
export { connectionDraining, lognormalExcessMean } from './connection-draining.js';
export { connectionPoolExhaustion } from './connection-pool-exhaustion.js';
export { consumerLag, lagFluidModel } from './consumer-lag.js';
export { consumerRebalance } from './consumer-rebalance.js';
export { deliveryGuarantees } from './delivery-guarantees.js';
export { discoveryStaleness } from './discovery-staleness.js';
export { distributedCache } from './distributed-cache.js';
export { distributedRateLimit } from './distributed-rate-limit.js';
export { eventSourcingCqrs } from './event-sourcing-cqrs.js';
export { evictionPolicies } from './eviction-policies.js';
export {
  criticalSpikeMs,
  effectiveCapacity,
  type GcModel,
  type GcTippingPoint,
  gcDeathSpiral,
  gcTippingPoint,
} from './gc-death-spiral.js';
export { type DeadlineQueueTheory, goodputCollapse, mm1kDeadlineGoodput } from './goodput-collapse.js';
export { hashAffinity, keyOwners } from './hash-affinity.js';
export { type CheckModel, checkTimeline, healthChecks, type ModelFlip } from './health-checks.js';
export { durabilityTable, kafkaDurability } from './kafka-durability.js';
export { connectionShares, l4VsL7 } from './l4-vs-l7.js';
export { lbAlgorithms, roundRobinMeanTime } from './lb-algorithms.js';
export { leastConnBlackHole } from './least-conn-black-hole.js';
export { meshOverhead } from './mesh-overhead.js';
export { mmc } from './mmc.js';
export { monolithVsMicroservices } from './monolith-vs-microservices.js';
export { poisonMessage } from './poison-message.js';
export { prefetch, prefetchBurstTheory } from './prefetch.js';
export { rateLimiting } from './rate-limiting.js';
export { retryStorm } from './retry-storm.js';
export { saga } from './saga.js';
export { serviceBoundaries } from './service-boundaries.js';
export {
  type AlertPrediction,
  type InjectedIncident,
  predictAlert,
  sloBurnAlerts,
} from './slo-burn-alerts.js';
export { expectedShare, slowStart, slowStartSpec } from './slow-start.js';
export { staleLoadHerding } from './stale-load-herding.js';
export { stranglerFig } from './strangler-fig.js';
export { tailAtScale } from './tail-at-scale.js';
export {
  type ExpiryHerdModel,
  expiryHerdPeak,
  fullJitterReconnectRate,
  thunderingHerd,
} from './thundering-herd.js';
export { timeoutCascade } from './timeout-cascade.js';
export { writePolicies } from './write-policies.js';

/** The built-in scenarios, by name, in the order `dsim list` prints them. */
export const builtinScenarios: ReadonlyMap<string, Scenario<any>> = new Map<string, Scenario<any>>([
  [mmc.name, mmc],
  [retryStorm.name, retryStorm],
  [backoffJitter.name, backoffJitter],
  [rateLimiting.name, rateLimiting],
  [tailAtScale.name, tailAtScale],
  [bulkhead.name, bulkhead],
  [circuitBreaker.name, circuitBreaker],
  [goodputCollapse.name, goodputCollapse],
  [timeoutCascade.name, timeoutCascade],
  [gcDeathSpiral.name, gcDeathSpiral],
  [connectionPoolExhaustion.name, connectionPoolExhaustion],
  [cacheStampede.name, cacheStampede],
  [thunderingHerd.name, thunderingHerd],
  [cacheFlush.name, cacheFlush],
  [evictionPolicies.name, evictionPolicies],
  [distributedCache.name, distributedCache],
  [cdn.name, cdn],
  [writePolicies.name, writePolicies],
  [lbAlgorithms.name, lbAlgorithms],
  [leastConnBlackHole.name, leastConnBlackHole],
  [l4VsL7.name, l4VsL7],
  [healthChecks.name, healthChecks],
  [hashAffinity.name, hashAffinity],
  [connectionDraining.name, connectionDraining],
  [slowStart.name, slowStart],
  [staleLoadHerding.name, staleLoadHerding],
  [prefetch.name, prefetch],
  [kafkaDurability.name, kafkaDurability],
  [consumerLag.name, consumerLag],
  [consumerRebalance.name, consumerRebalance],
  [backpressure.name, backpressure],
  [eventSourcingCqrs.name, eventSourcingCqrs],
  [deliveryGuarantees.name, deliveryGuarantees],
  [poisonMessage.name, poisonMessage],
  [apiGateway.name, apiGateway],
  [stranglerFig.name, stranglerFig],
  [availabilityMath.name, availabilityMath],
  [sloBurnAlerts.name, sloBurnAlerts],
  [adaptiveConcurrency.name, adaptiveConcurrency],
  [discoveryStaleness.name, discoveryStaleness],
  [distributedRateLimit.name, distributedRateLimit],
  [capacityPlanning.name, capacityPlanning],
  [saga.name, saga],
  [meshOverhead.name, meshOverhead],
  [autoscaling.name, autoscaling],
  [monolithVsMicroservices.name, monolithVsMicroservices],
  [serviceBoundaries.name, serviceBoundaries],
]);
