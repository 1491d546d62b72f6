/**
 * @dsim/scenarios: define, run and compare scenarios; the built-in catalogue; the `dsim` CLI.
 */
export { BatchMeans } from './batch-means.js';
export {
  type AlertPrediction,
  adaptiveConcurrency,
  apiGateway,
  autoscaling,
  availabilityMath,
  BROOKER_100_CLIENTS,
  backoffJitter,
  backpressure,
  builtinScenarios,
  bulkhead,
  type CacheFlushModel,
  type CacheFlushTheory,
  type CheckModel,
  cacheFlush,
  cacheFlushTheory,
  cacheStampede,
  capacityPlanning,
  cdn,
  checkTimeline,
  circuitBreaker,
  connectionDraining,
  connectionPoolExhaustion,
  connectionShares,
  consumerLag,
  consumerRebalance,
  criticalSpikeMs,
  type DeadlineQueueTheory,
  deliveryGuarantees,
  discoveryStaleness,
  distributedCache,
  distributedRateLimit,
  durabilityTable,
  type ExpiryHerdModel,
  effectiveCapacity,
  eventSourcingCqrs,
  evictionPolicies,
  expectedShare,
  expiryHerdPeak,
  fullJitterReconnectRate,
  type GcModel,
  type GcTippingPoint,
  gcDeathSpiral,
  gcTippingPoint,
  goodputCollapse,
  hashAffinity,
  healthChecks,
  type InjectedIncident,
  kafkaDurability,
  keyOwners,
  l4VsL7,
  lagFluidModel,
  lbAlgorithms,
  leastConnBlackHole,
  lognormalExcessMean,
  type ModelFlip,
  meshOverhead,
  mm1kDeadlineGoodput,
  mmc,
  monolithVsMicroservices,
  poisonMessage,
  predictAlert,
  prefetch,
  prefetchBurstTheory,
  rateLimiting,
  retryStorm,
  roundRobinMeanTime,
  saga,
  serviceBoundaries,
  sloBurnAlerts,
  slowStart,
  slowStartSpec,
  staleLoadHerding,
  steadyReplicas,
  stranglerFig,
  tailAtScale,
  thunderingHerd,
  timeoutCascade,
  writePolicies,
} from './catalogue/index.js';
export { type CliIO, loadScenario, main } from './cli-main.js';
export { type FaultWindow, faultWindows } from './fault-windows.js';
export { formatResult } from './format.js';
export {
  type NumberParamOptions,
  type ParamSchema,
  type ParamSpec,
  type ParamValues,
  param,
  parseAssignments,
  resolveParams,
} from './params.js';
export { erlangB, erlangC, type QueueTheory, queueTheory, supermarketMeanTime } from './queueing-theory.js';
export { meanRate, type RecoveryOptions, recoveryAfter } from './recovery.js';
export {
  escapeHtml,
  jsonForScript,
  type ReportOptions,
  type ReportWindows,
  renderReport,
  reportWindows,
  writeReport,
} from './report/render.js';
export { MAX_SWEEP_CHARTS, renderSweepReport, type SweepChart, sweepCharts } from './report/sweep-report.js';
export { type TopologyView, topologyFigures, topologyViews } from './report/topology.js';
export { ReportInputError, validateResult } from './report/validate.js';
export { RequestStats, type RunMetrics } from './request-stats.js';
export {
  type CheckResult,
  defineScenario,
  type Outcome,
  type RunAnnotations,
  type RunScenarioOptions,
  runScenario,
  type Scenario,
  type ScenarioContext,
  type ScenarioResult,
  type VariantDefinition,
  type VariantResult,
} from './scenario.js';
export { aggregate, type SweepPointResult, type SweepResult } from './sweep/aggregate.js';
export {
  type FindOp,
  type FindOptions,
  type FindPoint,
  type FindResult,
  type FindSpec,
  type FindVerdict,
  findThreshold,
  findVerdict,
  formatFind,
  parseFind,
} from './sweep/find.js';
export {
  deriveSeed,
  type GridPoint,
  gridPoints,
  parseSeeds,
  parseSweepValues,
  SWEEP_MAX_ITEMS,
} from './sweep/grid.js';
export { mergeSweeps, type SweepShard } from './sweep/merge.js';
export { type Mser5Result, mser5 } from './sweep/mser.js';
export { defaultWorkers, sweepInWorkers } from './sweep/pool.js';
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  parseQueueUrl,
  QUEUE_WORKER_DEFAULTS,
  type QueueSweepSettings,
  type QueueWorkerEvent,
  type QueueWorkerHandle,
  type QueueWorkerOptions,
  type RedisTarget,
  SWEEP_REGISTRY,
  serveQueue,
  sweepJobId,
  sweepOnQueue,
  sweepQueueName,
} from './sweep/queue.js';
export { runOutcome, runPoint, type SweepRun, steadyFigures } from './sweep/run-point.js';
export type { SweepPointSpec, SweepSpec } from './sweep/spec.js';
export {
  type ConfidenceInterval,
  requiredReplications,
  type SummarizeOptions,
  type Summary,
  studentTQuantile,
  summarize,
} from './sweep/stats.js';
export { type SweepOptions, SweepPlan, type SweepTask, sweep, sweepDigest } from './sweep/sweep.js';
export { type ActivatorReading, activatorReading, zeroSummary } from './system/activator.js';
export { ACTIVATOR_DEFAULTS, type ActivatorDescription } from './system/activator-schema.js';
export type { AmqpHandle } from './system/amqp.js';
export {
  AMQP_DEFAULTS,
  type AmqpDescription,
  amqpAddresses,
  type WorkerDescription,
} from './system/amqp-schema.js';
export type { AutoscaleHandle } from './system/autoscale.js';
export type { AutoscaleDescription } from './system/autoscale-schema.js';
export { type BalancerHandle, type BalancerReading, balancerReading } from './system/balancer.js';
export type { BalancerDescription } from './system/balancer-schema.js';
export type { CdnHandle } from './system/cdn.js';
export {
  type CdnDescription,
  type CdnTierDescription,
  cdnAddresses,
  cdnPops,
} from './system/cdn-schema.js';
export {
  type ClientsHandle,
  type CompiledSystem,
  type CompileOptions,
  type ConsumerGroupHandle,
  compileSystem,
  type EdgeHook,
} from './system/compile.js';
export type { HostedLimit, LimitClasses } from './system/concurrency-limit.js';
export type { ConcurrencyLimitDescription } from './system/concurrency-limit-schema.js';
export { CriticalityTags } from './system/criticality.js';
export {
  type CriticalitySharesDescription,
  criticalitySchema,
  criticalitySharesSchema,
} from './system/criticality-schema.js';
export { type Departure, type DiscoveryHandle, DNS_REFRESH_DEFAULT_MS } from './system/discovery.js';
export {
  type BalancerDiscoveryDescription,
  DISCOVERY_KINDS,
  type EurekaDescription,
} from './system/discovery-schema.js';
export {
  type DistributionData,
  type DurationData,
  distributionSchema,
  durationSchema,
  toDistribution,
} from './system/distributions.js';
export { type GatewayReading, gatewayReading } from './system/gateway.js';
export type {
  ClientRequestDescription,
  GatewayDescription,
  GatewayRouteDescription,
} from './system/gateway-schema.js';
export {
  type GlobalLimitHandle,
  type GlobalLimitReading,
  globalLimitReading,
} from './system/global-rate-limit.js';
export {
  GLOBAL_RATE_LIMIT_KINDS,
  type GlobalRateLimitDescription,
  type RateLimitStoreDescription,
} from './system/global-rate-limit-schema.js';
export { toDot } from './system/graph/dot.js';
export {
  SYSTEM_EDGE_LABELS,
  SYSTEM_NODE_KINDS,
  type SystemEdgeLabel,
  type SystemGraph,
  type SystemGraphEdge,
  type SystemGraphNode,
  type SystemNodeKind,
  systemGraph,
} from './system/graph/graph.js';
export { toMermaid } from './system/graph/mermaid.js';
export { type SvgAnnotation, type SvgOptions, type Tone, toSvg } from './system/graph/svg.js';
export { systemJsonSchema } from './system/json-schema.js';
export type { KafkaHandle } from './system/kafka.js';
export {
  type ConsumerDescription,
  KAFKA_DEFAULTS,
  type KafkaDescription,
  kafkaAddresses,
} from './system/kafka-schema.js';
export { loadSystem, parseSystem } from './system/load.js';
export { type ClientSeconds, SystemMeasurement } from './system/measure.js';
export {
  captureInbound,
  type MeshHandle,
  type MeshReading,
  meshReading,
  meshReplicas,
} from './system/mesh.js';
export type { MeshDescription, MeshProfileDescription } from './system/mesh-schema.js';
export { windowOutcome } from './system/outcome.js';
export { type Phase, type PhaseWindows, runEndMs, systemPhases } from './system/phases.js';
export type { RateLimitDescription } from './system/rate-limit-schema.js';
export { rolloutOutcome } from './system/rollout.js';
export { DEFAULT_ROLLOUT_STEPS, type RolloutDescription } from './system/rollout-schema.js';
export { type SagaHandle, sagaOutcome } from './system/saga.js';
export type { SagaDescription } from './system/saga-schema.js';
export {
  type CacheDescription,
  type ClientsDescription,
  DEFAULT_CACHE_PLACEMENT,
  type DownstreamCallDescription,
  type NodeDescription,
  RETRY_AFTER_MODES,
  type ServiceDescription,
  type SystemDescription,
  systemSchema,
} from './system/schema.js';
export { type StranglerReading, stranglerReading } from './system/strangler.js';
export type { StranglerDescription } from './system/strangler-schema.js';
export {
  type CheckFn,
  defineSystemScenario,
  type Measured,
  measured,
  type SystemRun,
  type SystemScenarioOptions,
  type SystemVariant,
} from './system/system-scenario.js';
export { addressesOf, SystemError, type SystemIssue, validateSystem } from './system/validate.js';
export { freezeSystem, type SystemRecipe, systemVariants, variant } from './system/variants.js';
