/**
 * @dsim/components: component models built only on @dsim/core's public API. So far: retry backoff
 * policies with Brooker's jitter variants and Envoy's router backoff, and retry budgets (AWS SDK retry
 * quota, Envoy retry budget, Google SRE adaptive throttling), and rate limiters (token bucket, leaky
 * bucket as a meter and as a queue, fixed window, sliding log, sliding window counter, GCRA), a circuit
 * breaker with resilience4j's semantics, semaphore and thread-pool bulkheads, and services (workers, queue
 * disciplines, load shedding, load-dependent latency, downstream calls through connection pools), and
 * workload generators (open- and closed-loop arrivals, key generators, request mixes), and a retrying RPC
 * client (timeouts, retries with backoff, retry budgets, hedging, circuit breaker, fallbacks), caches
 * (eviction policies, cache servers, cache-aside with stampede defences, CDN tiers), key placement
 * (consistent hashing ring, rendezvous, Maglev), an L7 load balancer with Envoy, HAProxy and nginx
 * policies and backend health (active checks, outlier detection, max_fails), an L4 balancer with
 * HTTP/2 and HTTP/1.1 keep-alive clients, and messaging: a Kafka cluster (replication, ISR, leader
 * epochs, idempotent producers, consumer groups and assignors) and a RabbitMQ-style AMQP broker
 * (exchanges, prefetch, dead lettering, quorum queues).
 */

export { Activator, type ActivatorOptions, type ActivatorStats } from './autoscaling/activator.js';
export {
  Autoscaler,
  type AutoscalerOptions,
  type ScaleRecord,
  type SyncRecord,
} from './autoscaling/autoscaler.js';
export { type HpaOptions, HpaPolicy } from './autoscaling/hpa.js';
export {
  type HpaBehavior,
  type HpaRatePolicy,
  type HpaScalingRules,
  type ResolvedRatePolicy,
  type ResolvedScalingRules,
  resolveBehavior,
  resolveScalingRules,
  type ScaleEvent,
  scaleDownLimit,
  scaleUpLimit,
} from './autoscaling/hpa-behavior.js';
export {
  type CustomMetric,
  type ReplicaMetricSpec,
  type ResolvedReplicaMetric,
  type RpsMetric,
  resolveReplicaMetric,
  type UtilizationMetric,
} from './autoscaling/replica-metrics.js';
export {
  type Replica,
  ReplicaPool,
  type ReplicaPoolOptions,
  type ReplicaPoolStats,
  type ReplicaState,
} from './autoscaling/replica-pool.js';
export type {
  MetricKind,
  PodSample,
  PodState,
  ScalingInput,
  ScalingPolicy,
} from './autoscaling/scaling-policy.js';
export {
  type ScheduledScalingOptions,
  ScheduledScalingPolicy,
  type ScheduleEntry,
} from './autoscaling/scheduled-scaling.js';
export {
  type StepAdjustment,
  type StepAlarm,
  type StepScalingOptions,
  StepScalingPolicy,
} from './autoscaling/step-scaling.js';
export {
  type ResolvedWarmup,
  resolveWarmup,
  type WarmupOptions,
  warmupFactor,
} from './autoscaling/warmup.js';
export { ActiveHealthCheck, type CheckedState } from './balancer/health/active-health-check.js';
export type {
  ActiveHealthCheckOptions,
  HealthCheckPreset,
  HealthCounting,
  HealthStartup,
} from './balancer/health/active-options.js';
export { GATEWAY_FAILURES, OUTCOME_5XX } from './balancer/health/error-kinds.js';
export type { HealthClock } from './balancer/health/host.js';
export { MaxFails, type MaxFailsOptions } from './balancer/health/max-fails.js';
export {
  type EjectionReason,
  OutlierDetection,
  type OutlierHostState,
  type OutlierStats,
} from './balancer/health/outlier-detection.js';
export type { OutlierDetectionOptions } from './balancer/health/outlier-options.js';
export type { BackendHealth } from './balancer/health-hook.js';
export {
  type LoadBalancerHedgeOptions,
  type ResolvedLbHedge,
  resolveLbHedge,
} from './balancer/hedge-policy.js';
// L4 (connection-level) balancing: the next 4 exports were added by the l4-vs-l7 helper (biome sorts them here).
export {
  ConnectionClient,
  type ConnectionClientStats,
  type ConnectionResponse,
} from './balancer/l4/connection-client.js';
export {
  type L4Backend,
  L4Balancer,
  type L4BalancerStats,
  type L4CloseReason,
  type L4Connection,
} from './balancer/l4/l4-balancer.js';
export { MAX_CLIENT_CONNECTIONS } from './balancer/l4/l4-config.js';
export type {
  ConnectionCallOptions,
  ConnectionClientOptions,
  ConnectionProtocol,
  L4BalancerOptions,
  L4PolicyKind,
  L4PolicySpec,
} from './balancer/l4/l4-options.js';
export { LoadBalancer, type LoadBalancerStats } from './balancer/load-balancer.js';
export type {
  BackendSpec,
  LoadBalancerOptions,
  LoadReportOptions,
  RemoveBackendOptions,
} from './balancer/load-balancer-options.js';
export {
  boundedCapacity,
  ConsistentBoundedPolicy,
  type ConsistentBoundedPolicySpec,
} from './balancer/policies/consistent-bounded.js';
export { EdfScheduler } from './balancer/policies/edf.js';
export {
  BALANCER_POLICY_KINDS,
  type BalancerPolicyKind,
  type BalancerPolicySpec,
  createBalancerPolicy,
} from './balancer/policies/factory.js';
export { FirstPolicy, type FirstPolicySpec } from './balancer/policies/first.js';
export {
  HaproxyHashPolicy,
  type HaproxyHashPolicySpec,
  type HaproxyHashType,
  mapSlots,
} from './balancer/policies/haproxy-hash.js';
export { HaproxyRandomPolicy, type HaproxyRandomPolicySpec } from './balancer/policies/haproxy-random.js';
export { HashPolicy } from './balancer/policies/hash-policy.js';
export {
  LeastRequestPolicy,
  type LeastRequestPolicySpec,
  leastRequestWeight,
  type PowerOfDPolicySpec,
} from './balancer/policies/least-request.js';
export { LeastConnPolicy, type LeastConnPolicySpec } from './balancer/policies/leastconn.js';
export { MaglevPolicy, type MaglevPolicySpec } from './balancer/policies/maglev.js';
export { PeakEwmaPolicy, type PeakEwmaPolicySpec } from './balancer/policies/peak-ewma.js';
export {
  RandomBalancerPolicy,
  type RandomBalancerPolicySpec,
  randomAvailable,
} from './balancer/policies/random.js';
export { RingHashPolicy, type RingHashPolicySpec, ringVnodes } from './balancer/policies/ring-hash.js';
export { RoundRobinPolicy, type RoundRobinPolicySpec } from './balancer/policies/round-robin.js';
export {
  StickyPolicy,
  type StickyPolicyOptions,
  type StickySessionKey,
  type StickyStats,
} from './balancer/policies/sticky.js';
export {
  WeightedRoundRobinPolicy,
  type WeightedRoundRobinPolicySpec,
  type WrrScheduler,
} from './balancer/policies/weighted-round-robin.js';
export type { BalancerBackend, BalancerPolicy, PickContext } from './balancer/policy.js';
export { LB_DEFAULT_RETRY_ON, type LoadBalancerRetryOptions } from './balancer/retry-policy.js';
export {
  type EnvoySlowStartSpec,
  type HaproxySlowStartSpec,
  type ResolvedSlowStart,
  resolveSlowStart,
  type SlowStartSpec,
  slowStartFactor,
} from './balancer/slow-start.js';
export {
  Cache,
  type CacheEntry,
  type CacheOptions,
  type CacheReadStatus,
  type CacheSetOptions,
  type CacheStats,
} from './cache/cache.js';
export {
  type CacheAccess,
  type CacheLookup,
  type CacheRequest,
  type CacheStoreOptions,
  LocalCacheAccess,
  RemoteCache,
  type RemoteCacheOptions,
} from './cache/cache-access.js';
export {
  CacheAside,
  type CacheAsideOptions,
  type CacheAsideResult,
  type CacheAsideSource,
  type CacheAsideStats,
  type LoadResult,
} from './cache/cache-aside.js';
export { CacheServer, type CacheServerOptions } from './cache/cache-server.js';
export {
  buildCdn,
  CDN_REGION_RTT_MS,
  CdnCache,
  type CdnCacheOptions,
  type CdnCacheStats,
  type CdnHop,
  type CdnHopStatus,
  type CdnObject,
  type CdnOriginOptions,
  type CdnResponse,
  type CdnRttMatrix,
  type CdnTierOptions,
  CdnTopology,
  type CdnTopologyOptions,
  type CheEstimate,
  cdnOrigin,
  cheLru,
  isCdnObject,
  sumCdnStats,
} from './cache/cdn.js';
export {
  CacheConsistency,
  type CacheConsistencyOptions,
  type CacheConsistencyStats,
  DistributedCache,
  type DistributedCacheOptions,
  type DistributedCacheStats,
  type DistributedLookup,
  type DistributedPlacement,
  type DistributedStoreOptions,
  type HealthCheckOptions,
  type MembershipChange,
  READ_POLICIES,
  type ReadPolicy,
  Versioned,
} from './cache/distributed-cache.js';
export { type ArcOptions, ArcPolicy, type ArcSnapshot } from './cache/policies/arc.js';
export { CountMinSketch, hashKey } from './cache/policies/count-min-sketch.js';
export { createEvictionPolicy, EVICTION_KINDS } from './cache/policies/factory.js';
export { type FifoOptions, FifoPolicy } from './cache/policies/fifo.js';
export { type LfuOptions, LfuPolicy } from './cache/policies/lfu.js';
export { type LruOptions, LruPolicy } from './cache/policies/lru.js';
export { type NoEvictionOptions, NoEvictionPolicy } from './cache/policies/none.js';
export { type RandomOptions, RandomPolicy } from './cache/policies/random.js';
export { type RedisOptions, RedisPolicy } from './cache/policies/redis.js';
export { type TtlOptions, TtlPolicy } from './cache/policies/ttl.js';
export type {
  EvictionContext,
  EvictionKind,
  EvictionPolicy,
  EvictionSpec,
} from './cache/policies/types.js';
export { type WTinyLfuOptions, WTinyLfuPolicy } from './cache/policies/w-tinylfu.js';
export { Singleflight, type SingleflightStats } from './cache/singleflight.js';
export {
  type CharacteristicTimeEstimate,
  cheHitRatio,
  fifoHitRatio,
  type HitRatioEstimate,
  type HitRatioOptions,
  lfuHitRatio,
  zipfProbabilities,
} from './cache/theory.js';
export { type WarmUpOptions, type WarmUpResult, warmUp } from './cache/warm-up.js';
export {
  type StoreEntry,
  type StoreResult,
  type WriteBehindConfig,
  type WriteBehindOptions,
  type WriteBehindQueueInput,
  type WriteLoss,
  writeBehindExpectedQueue,
} from './cache/write-behind.js';
export {
  CacheWriter,
  type CacheWriterOptions,
  type CacheWriterStats,
  WRITE_MODES,
  type WriteError,
  type WriteMode,
  type WriteResult,
} from './cache/write-policy.js';
export { xfetchShouldRefresh } from './cache/xfetch.js';
export {
  type ClientFailure,
  type ClientFallback,
  type ClientResponse,
  type ClientResponseBase,
  type ClientSuccess,
  DEFAULT_RETRY_ON,
  type GiveUpReason,
  type HedgeOptions,
  type RatioBudgetSpec,
  RatioRetryBudget,
  type RatioRetryBudgetOptions,
  type RetryBudgetOption,
  type RetryingCallOptions,
  RetryingClient,
  type RetryingClientOptions,
  type RetryingClientStats,
} from './client/retrying-client.js';
export { DnsResolver, type DnsResolverOptions, type DnsResolverStats } from './discovery/dns-resolver.js';
export { type DnsAnswer, DnsServer, type DnsServerOptions } from './discovery/dns-server.js';
export {
  EndpointList,
  type EndpointListener,
  type EndpointSource,
  type EndpointTarget,
  type FeedOptions,
  feedLoadBalancer,
} from './discovery/endpoint-source.js';
export { EurekaClient, type EurekaClientStats } from './discovery/eureka-client.js';
export { EurekaInstance, type EurekaInstanceStats } from './discovery/eureka-instance.js';
export type {
  EurekaClientOptions,
  EurekaInstanceOptions,
  EurekaRegistration,
  EurekaServerOptions,
  LeaseExpiry,
  ResolvedEurekaClient,
  ResolvedEurekaInstance,
  ResolvedEurekaServer,
} from './discovery/eureka-options.js';
export type { EurekaRequest } from './discovery/eureka-protocol.js';
export { EurekaServer, type EurekaServerStats } from './discovery/eureka-server.js';
export {
  ReadinessProbe,
  type ReadinessProbeOptions,
  type ReadinessProbeStats,
  type ResolvedReadinessProbe,
} from './discovery/readiness-probe.js';
export {
  ServiceEndpoints,
  type ServiceEndpointsOptions,
  type TerminateOptions,
} from './discovery/service-endpoints.js';
export {
  type EurekaDrop,
  type EurekaIntervals,
  type EurekaSchedule,
  eurekaCrashTimeline,
  eurekaShutdownTimeline,
  leaseExpiresAfter,
  type ReadinessSchedule,
  readinessBounds,
  readinessTimeline,
  type StoppedLease,
  stalenessBounds,
  tickAfter,
  tickAtOrAfter,
} from './discovery/staleness.js';
export {
  ApiGateway,
  type ApiGatewayStats,
  type GatewayLimit,
  type TenantStats,
} from './gateway/api-gateway.js';
export type {
  ApiGatewayOptions,
  GatewayAuth,
  GatewayPart,
  GatewayRequest,
  GatewayRoute,
} from './gateway/api-gateway-options.js';
export {
  checkMethods,
  compilePathPattern,
  PathPattern,
  proxiedErrorKind,
} from './gateway/path-pattern.js';
export {
  createPlacement,
  ModuloHash,
  type ModuloHashOptions,
  type PlacementSpec,
} from './hashing/factory.js';
export {
  type Hash64,
  hash53,
  mod64,
  top53,
  xxHash32,
  xxHash64,
  xxHash64Hex,
  xxHash64Into,
} from './hashing/hash.js';
export {
  isPrime,
  MAGLEV_DEFAULT_TABLE_SIZE,
  MAGLEV_MAX_TABLE_SIZE,
  MaglevHash,
  type MaglevHashOptions,
} from './hashing/maglev.js';
export { RendezvousHash, type RendezvousHashOptions } from './hashing/rendezvous.js';
export { HashRing, type HashRingOptions, RING_MAX_POINTS } from './hashing/ring.js';
export {
  type KeyPlacement,
  PLACEMENT_KINDS,
  type PlacementKind,
  type PlacementNode,
} from './hashing/types.js';
export {
  fitPassLatency,
  hopQuantile,
  normalCdf,
  type PassLatencyFit,
  presetPassLatency,
  sumOfTwoLognormalsCdf,
  sumOfTwoLognormalsQuantile,
} from './mesh/latency-fit.js';
export { MeshConnection, type MeshConnectionStats } from './mesh/mesh-connection.js';
export { MeshEnvelope } from './mesh/mesh-envelope.js';
export {
  ISTIO_DEFAULT_RETRY,
  type MeshClusterOptions,
  type MeshConnectionOptions,
  type MeshInstanceOptions,
  type MeshMode,
  type MeshProfile,
  type MeshProxyOptions,
  type MeshProxyProfile,
  type MeshServiceOptions,
  type ServiceMeshOptions,
} from './mesh/mesh-options.js';
export { type MeshEndpoint, MeshProxy, type MeshProxyStats, type MeshSideStats } from './mesh/mesh-proxy.js';
export { ProxyCpu, type ProxyCpuStats } from './mesh/proxy-cpu.js';
export {
  cpuMsPerRequest,
  type MeshProxyKind,
  PROXY_PRESET_NAMES,
  PROXY_PRESETS,
  type ProxyPreset,
  type ProxyPresetName,
  type PublishedHopLatency,
} from './mesh/proxy-presets.js';
export { ServiceMesh } from './mesh/service-mesh.js';
export { AmqpBroker, type AmqpBrokerStats } from './messaging/amqp/broker.js';
export {
  AmqpClient,
  type AmqpClientStats,
  type AmqpConsumer,
  type AmqpDelivery,
} from './messaging/amqp/client.js';
export { type AmqpBinding, AmqpExchange } from './messaging/amqp/exchange.js';
export {
  type AmqpMessage,
  DEAD_LETTER_REASONS,
  type DeadLetterReason,
  isDeathCycle,
  recordDeath,
  type XDeath,
} from './messaging/amqp/message.js';
export {
  type AmqpBrokerOptions,
  type AmqpClientOptions,
  type ConsumeOptions,
  EXCHANGE_TYPES,
  type ExchangeOptions,
  type ExchangeType,
  OVERFLOW_MODES,
  type OverflowMode,
  type PublishOptions,
  QUEUE_TYPES,
  type QueueOptions,
  type QueueType,
} from './messaging/amqp/options.js';
export type { AmqpError, AmqpResult, PublishOutcome } from './messaging/amqp/protocol.js';
export { AmqpQueue, type AmqpQueueStats } from './messaging/amqp/queue.js';
export { QuorumGroup } from './messaging/amqp/quorum.js';
export { topicMatches } from './messaging/amqp/topic.js';
export {
  AggregateRepository,
  type AggregateRepositoryOptions,
  type AggregateRepositoryStats,
  type CommandResult,
  type LoadedAggregate,
} from './messaging/event-sourcing/aggregate-repository.js';
export {
  type AppendResult,
  EventStore,
  type EventStoreStats,
  type ExpectedVersion,
  type RecordedEvent,
  type Snapshot,
} from './messaging/event-sourcing/event-store.js';
export {
  type EventStoreRequest,
  EventStoreServer,
  type EventStoreServerOptions,
  type LoadResponse,
} from './messaging/event-sourcing/event-store-server.js';
export {
  Projection,
  type ProjectionOptions,
  type ProjectionStats,
} from './messaging/event-sourcing/projection.js';
export {
  type ReadModelRequest,
  ReadModelServer,
  type ReadModelServerOptions,
  type ReadModelView,
} from './messaging/event-sourcing/read-model.js';
export {
  type CooperativeMemberPlan,
  type CooperativeRebalance,
  cooperativeRebalance,
  cooperativeStickyAssign,
  cooperativeStickyPlan,
} from './messaging/kafka/assignors/cooperative-sticky.js';
export { rangeAssign } from './messaging/kafka/assignors/range.js';
export { roundRobinAssign } from './messaging/kafka/assignors/round-robin.js';
export {
  STICKY_ALGORITHMS,
  type StickyAlgorithm,
  type StickyAssignOptions,
  stickyAssign,
} from './messaging/kafka/assignors/sticky.js';
export {
  type Assignment,
  type AssignorInput,
  type AssignorMember,
  formatAssignment,
  formatTp,
  parseTp,
  type TopicPartition,
  tp,
} from './messaging/kafka/assignors/types.js';
export { auditDelivery, type DeliveryAudit } from './messaging/kafka/cluster/audit.js';
export { KafkaBroker, type KafkaBrokerStats } from './messaging/kafka/cluster/broker.js';
export type {
  ClusterConfig,
  KafkaClusterOptions,
  KafkaTopicSpec,
  TopicConfig,
  TruncationRule,
} from './messaging/kafka/cluster/config.js';
export { CLEANUP_POLICIES, type CleanupPolicy } from './messaging/kafka/cluster/config.js';
export { KafkaController } from './messaging/kafka/cluster/controller.js';
export { DiskQueue } from './messaging/kafka/cluster/disk.js';
export { KafkaCluster } from './messaging/kafka/cluster/kafka-cluster.js';
export {
  type CleanableRange,
  type CleanResult,
  cleanableRange,
  cleanLog,
  runCleaner,
} from './messaging/kafka/cluster/log-cleaner.js';
export {
  type FollowerState,
  type LeaderHost,
  PartitionLeader,
} from './messaging/kafka/cluster/partition-leader.js';
export { type FetcherHost, ReplicaFetcher } from './messaging/kafka/cluster/replica-fetcher.js';
export {
  BATCHES_TO_RETAIN,
  MARKER_BYTES,
  ReplicaLog,
  type RetentionLimits,
  type Segment,
  type SequenceCheck,
} from './messaging/kafka/cluster/replica-log.js';
export {
  TransactionCoordinator,
  type TxnCoordinatorHost,
  type TxnCoordinatorStats,
  type TxnDescription,
  type TxnState,
} from './messaging/kafka/cluster/transaction-coordinator.js';
export { hiddenRecord, TransactionIndex } from './messaging/kafka/cluster/transaction-index.js';
export type {
  AbortedTxn,
  ClusterMetadata,
  IsolationLevel,
  KafkaErrorCode,
  LogRecord,
  PartitionMeta,
  ProduceBatch,
  ProducedRecord,
  TxnResult,
} from './messaging/kafka/cluster/types.js';
export type { ClassicGroupState, RebalanceRecord } from './messaging/kafka/consumer/classic-group.js';
export { clusterRecordSource } from './messaging/kafka/consumer/cluster-record-source.js';
export type { ConsumedBatch } from './messaging/kafka/consumer/consumer-options.js';
export {
  CONSUMER_ASSIGNORS,
  type ConsumerAssignor,
  type KafkaConsumerOptions,
  MANUAL_COMMITS,
  type ManualCommit,
} from './messaging/kafka/consumer/consumer-options.js';
export type { GroupCoordinatorOptions } from './messaging/kafka/consumer/coordinator-options.js';
export { DeliveryTally, type TallyEntry } from './messaging/kafka/consumer/delivery-tally.js';
export { GroupCoordinator, type GroupDescription } from './messaging/kafka/consumer/group-coordinator.js';
export {
  ConsumerGroupMonitor,
  type ConsumerGroupMonitorOptions,
} from './messaging/kafka/consumer/group-monitor.js';
export { KafkaConsumer, type KafkaConsumerStats } from './messaging/kafka/consumer/kafka-consumer.js';
export {
  MemoryRecordSource,
  type MemoryRecordSourceOptions,
} from './messaging/kafka/consumer/memory-record-source.js';
export type { CommittedOffset, GroupErrorCode } from './messaging/kafka/consumer/protocol.js';
export type {
  RecordSource,
  SourceFetch,
  SourceFetchResult,
  SourceOffset,
} from './messaging/kafka/consumer/record-source.js';
export {
  TransactionalRelay,
  type TransactionalRelayStats,
} from './messaging/kafka/consumer/transactional-relay.js';
export {
  murmur2,
  partitionForKey,
  StickyPartitioner,
  type StickyPartitionerOptions,
  toPositive,
} from './messaging/kafka/partitioner.js';
export {
  KafkaProducer,
  type KafkaProducerStats,
  type ProduceOutcome,
  type ProducerErrorKind,
  type ProducerRecord,
  type RecordFate,
} from './messaging/kafka/producer/kafka-producer.js';
export type { KafkaProducerOptions } from './messaging/kafka/producer/producer-options.js';
export type {
  ConsumerGroupMetadata,
  TransactionState,
  TxnOffset,
  TxnOutcome,
} from './messaging/kafka/producer/transaction-manager.js';
export {
  type DedupRequest,
  DedupStore,
  type DedupStoreOptions,
  DedupStoreServer,
  type DedupStoreServerOptions,
  type DedupStoreStats,
} from './messaging/patterns/dedup-store.js';
export {
  IdempotentConsumer,
  type IdempotentConsumerOptions,
  type IdempotentConsumerStats,
  type RemoteDedup,
} from './messaging/patterns/idempotent-consumer.js';
export {
  OutboxDatabase,
  type OutboxDatabaseOptions,
  OutboxRelay,
  type OutboxRelayOptions,
  type OutboxRow,
  OutboxService,
  type OutboxServiceOptions,
  type OutboxWrite,
} from './messaging/patterns/outbox.js';
export {
  type ReprocessAttempt,
  type ReprocessingMode,
  RetryTopics,
  type RetryTopicsOptions,
  type RetryTopicsStats,
} from './messaging/patterns/retry-topics.js';
export {
  type BoundedBufferSpec,
  BUFFER_KINDS,
  type BufferSpec,
  type CreditBufferSpec,
  ON_FULL_POLICIES,
  type OnFull,
  PipelineBuffer,
  type PipelineBufferStats,
  type PipelineItem,
  type UnboundedBufferSpec,
} from './messaging/pipeline/buffer.js';
export {
  type BackpressureFluidModel,
  backpressureFluid,
  type FluidStage,
} from './messaging/pipeline/fluid.js';
export {
  type OfferResult,
  Pipeline,
  type PipelineOptions,
  type PipelineStageOptions,
  type PipelineStats,
} from './messaging/pipeline/pipeline.js';
export { PipelineStage, type PipelineStageStats } from './messaging/pipeline/stage.js';
export {
  type CanaryAnalysis,
  CanaryRollout,
  type CanaryRolloutOptions,
  type RolloutState,
} from './migration/canary-rollout.js';
export {
  type AnswerObserver,
  type RouteStats,
  type SideStats,
  StranglerFacade,
} from './migration/strangler-facade.js';
export type { MigratedRoute, StranglerFacadeOptions } from './migration/strangler-facade-options.js';
export { AimdLimit, type AimdLimitOptions } from './resilience/adaptive/aimd-limit.js';
export {
  ConcurrencyLimiter,
  type ConcurrencyLimiterOptions,
  type ConcurrencyLimiterStats,
  type LimiterGroupStats,
  LimiterPermit,
} from './resilience/adaptive/concurrency-limiter.js';
export {
  CRITICALITIES,
  type Criticality,
  type CriticalityShares,
  DEFAULT_CRITICALITY_SHARES,
} from './resilience/adaptive/criticality.js';
export { FixedLimit } from './resilience/adaptive/fixed-limit.js';
export { Gradient2Limit, type Gradient2LimitOptions } from './resilience/adaptive/gradient2-limit.js';
export { type ConcurrencyLimit, log10Root } from './resilience/adaptive/limit.js';
export {
  ConcurrencyLimitProxy,
  type ConcurrencyLimitProxyOptions,
  type LimitRejection,
} from './resilience/adaptive/limit-proxy.js';
export { LimitedCaller, type LimitedCallerOptions } from './resilience/adaptive/limited-caller.js';
export { DEFAULT_DROP_ON } from './resilience/adaptive/outcome.js';
export { VegasLimit, type VegasLimitOptions } from './resilience/adaptive/vegas-limit.js';
export { WindowedLimit, type WindowedLimitOptions } from './resilience/adaptive/windowed-limit.js';
export { type Backoff, type BackoffSpec, createBackoff } from './resilience/backoff.js';
export {
  SemaphoreBulkhead,
  type SemaphoreBulkheadConfig,
  type SemaphoreBulkheadMetrics,
  ThreadPoolBulkhead,
  type ThreadPoolBulkheadConfig,
  type ThreadPoolBulkheadMetrics,
} from './resilience/bulkhead.js';
export {
  type BreakerClock,
  CircuitBreaker,
  type CircuitBreakerConfig,
  type CircuitBreakerListener,
  type CircuitBreakerMetrics,
  type CircuitBreakerState,
  type CircuitBreakerStateChange,
  type CircuitBreakerTotals,
  type SlidingWindowType,
} from './resilience/circuit-breaker.js';
export {
  WindowAccuracy,
  type WindowAccuracyOptions,
  type WindowFigures,
} from './resilience/distributed-rate-limit/accuracy.js';
export { CentralLimiter, type CentralLimiterOptions } from './resilience/distributed-rate-limit/central.js';
export {
  LocalShareLimiter,
  type LocalShareLimiterOptions,
  localShare,
} from './resilience/distributed-rate-limit/local-share.js';
export {
  RateLimitStore,
  type RateLimitStoreOptions,
  type RateLimitStoreRequest,
  type RateLimitStoreStats,
  type SyncEntry,
  type SyncTotals,
} from './resilience/distributed-rate-limit/store.js';
export { SyncedLimiter, type SyncedLimiterOptions } from './resilience/distributed-rate-limit/synced.js';
export {
  localAdmitted,
  type SyncedBoundInputs,
  syncedOverAdmissionBound,
} from './resilience/distributed-rate-limit/theory.js';
export {
  ADMIT_LOCAL,
  type AdmitDecision,
  type AdmitReason,
  type DistributedLimiter,
  type DistributedLimiterStats,
  REJECT_LOCAL,
} from './resilience/distributed-rate-limit/types.js';
export { compareLimiters, type LimiterComparison } from './resilience/rate-limiters/compare.js';
export { createRateLimiter, type RateLimiterSpec } from './resilience/rate-limiters/factory.js';
export { FixedWindow, type FixedWindowOptions } from './resilience/rate-limiters/fixed-window.js';
export { Gcra, type GcraOptions } from './resilience/rate-limiters/gcra.js';
export {
  LeakyBucketMeter,
  type LeakyBucketMeterOptions,
} from './resilience/rate-limiters/leaky-bucket-meter.js';
export {
  LeakyBucketQueue,
  type LeakyBucketQueueOptions,
} from './resilience/rate-limiters/leaky-bucket-queue.js';
export { SlidingLog, type SlidingLogOptions } from './resilience/rate-limiters/sliding-log.js';
export {
  SlidingWindowCounter,
  type SlidingWindowCounterOptions,
} from './resilience/rate-limiters/sliding-window-counter.js';
export { TokenBucket, type TokenBucketOptions } from './resilience/rate-limiters/token-bucket.js';
export {
  type Decision,
  RATE_LIMITER_KINDS,
  type RateLimiter,
  type RateLimiterKind,
} from './resilience/rate-limiters/types.js';
export {
  AdaptiveThrottle,
  type AdaptiveThrottleOptions,
  EnvoyRetryBudget,
  type EnvoyRetryBudgetOptions,
  type QuotaErrorClass,
  RetryQuota,
  type RetryQuotaOptions,
} from './resilience/retry-budget.js';
export {
  SagaChoreography,
  type SagaChoreographyOptions,
  type SagaChoreographyStats,
} from './saga/saga-choreography.js';
export {
  defineSaga,
  isSagaDefinition,
  type ResolvedSagaRetry,
  resolveSagaRetry,
  SAGA_MAX_STEPS,
  SAGA_STEP_KINDS,
  type SagaCompensation,
  type SagaCompensationSpec,
  type SagaDefinition,
  type SagaRetryPolicy,
  type SagaSpec,
  type SagaStep,
  type SagaStepKind,
  type SagaStepSpec,
} from './saga/saga-definition.js';
export {
  type SagaAudit,
  SagaLedger,
  type SagaLedgerStats,
  type SagaOutcome,
  type SagaRecord,
} from './saga/saga-ledger.js';
export {
  SagaOrchestrator,
  type SagaOrchestratorOptions,
  type SagaOrchestratorStats,
} from './saga/saga-orchestrator.js';
export { SagaParticipant, type SagaParticipantStats } from './saga/saga-participant.js';
export { type SagaCommand, serveSagaParticipant } from './saga/saga-participant-server.js';
export { type SagaTheory, sagaTheory } from './saga/saga-theory.js';
export {
  ConnectionPool,
  type ConnectionPoolOptions,
  type ConnectionPoolStats,
  type PoolGrant,
} from './service/connection-pool.js';
export { Service } from './service/service.js';
export type {
  DownstreamCall,
  DownstreamCaller,
  DownstreamSpec,
  QueueDiscipline,
  ServiceOptions,
  Shedding,
} from './service/service-options.js';
export {
  type LoadSlowdownOptions,
  loadSlowdown,
  type ServiceLoad,
  type Slowdown,
} from './service/slowdown.js';
export {
  ARRIVAL_KINDS,
  type ArrivalKind,
  type ArrivalProcess,
  type ArrivalSpec,
  type ArrivalStep,
  type BurstArrivalSpec,
  type ConstantArrivalSpec,
  createArrivals,
  isArrivalProcess,
  type PoissonArrivalSpec,
  type RampArrivalSpec,
  type ReplayArrivalSpec,
  type SinusoidalArrivalSpec,
  type StepArrivalSpec,
} from './workload/arrivals.js';
export { type ClosedLoopHandle, type ClosedLoopOptions, closedLoop } from './workload/closed-loop.js';
export {
  createKeys,
  createMix,
  type HotSpotKeySpec,
  KEYS_MAX_COUNT,
  type KeyGenerator,
  type KeySpec,
  type Mix,
  type MixEntry,
  type UniformKeySpec,
  type ZipfKeySpec,
} from './workload/keys.js';
export { type OpenLoopHandle, type OpenLoopOptions, openLoop } from './workload/open-loop.js';
