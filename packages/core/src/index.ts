/**
 * @dsim/core: the deterministic discrete-event engine of dsim.
 *
 * A {@link Simulation} owns a virtual clock (ms), an event queue ordered by (time, priority, insertion
 * order), processes written as generator functions, seeded random streams, a trace bus and a run digest.
 * Resources, stores and containers are the SimPy-style primitives; distributions draw from named
 * streams; Tally, TimeWeighted and LatencyHistogram measure.
 */
export { Container, type ContainerClaim, type ContainerOptions } from './container.js';
export { RollingDigest } from './digest.js';
export { type Duration, formatDuration, toMs } from './duration.js';
export {
  assertBoolean,
  assertFinite,
  assertInteger,
  assertNonNegative,
  assertPositive,
  assertProbability,
  DsimError,
  type DsimErrorCode,
  type DsimErrorContext,
  invalidArgument,
  isDsimError,
  showValue,
} from './errors.js';
export { MAX_PRIORITY, MIN_PRIORITY, NORMAL, type ScheduledHandle, URGENT } from './event-queue.js';
export {
  type AnyOfResult,
  type EventState,
  isSimEvent,
  SimEvent,
  type Timed,
  Timeout,
  type ValueOf,
} from './events.js';
export { csvField, METRICS_CSV_HEADER, metricsCsv, writeMetricsCsv } from './export/csv.js';
export { type LineSink, type NdjsonRecording, recordNdjson, toNdjsonLine } from './export/ndjson.js';
export {
  PerfettoBuilder,
  type PerfettoRecording,
  type PerfettoTrace,
  recordPerfetto,
  type TraceEvent,
} from './export/perfetto.js';
export {
  type AlertEvaluation,
  type EvaluateAlertsOptions,
  evaluateAlerts,
  type FiringInterval,
  type RuleEvaluation,
  windowBurnRates,
} from './fundamentals/alert-evaluation.js';
export {
  type AlertComparison,
  type AlertPolicy,
  type AlertSeverity,
  type BurnRateRule,
  budgetSpent,
  burnRateFor,
  WORKBOOK_ALERT_TABLE,
  WORKBOOK_APPROACHES,
  type WorkbookAlertRow,
  type WorkbookApproach,
  windowLabel,
  workbookPolicy,
} from './fundamentals/alert-policy.js';
export {
  type AlertScore,
  type Incident,
  type IncidentScore,
  type ScoreAlertsOptions,
  scoreAlerts,
} from './fundamentals/alert-score.js';
export {
  allowedDowntime,
  availabilityFromMttf,
  kOfNAvailability,
  nines,
  parallelAvailability,
  serialAvailability,
  type ZonalAvailabilityOptions,
  zonalAvailability,
} from './fundamentals/availability.js';
export {
  type AvailabilityReplicasAnswer,
  type AvailabilityReplicasOptions,
  type CapacityObjective,
  type CapacityPlan,
  type CapacityPlanOptions,
  planCapacity,
  type ReplicasAnswer,
  type ReplicasOptions,
  replicasForAvailability,
  replicasForObjective,
} from './fundamentals/capacity.js';
export {
  type Estimate,
  type EstimateOptions,
  type EstimateRow,
  estimate,
  formatEstimate,
} from './fundamentals/estimate.js';
export {
  LATENCY_NUMBERS,
  type LatencyNumber,
  LINK_LATENCY,
  type LinkLatencyPreset,
  type LognormalPercentiles,
  latencyPreset,
  lognormalFromPercentiles,
  OPERATION_LATENCY,
  type OperationLatencyPreset,
} from './fundamentals/latency.js';
export { erlangB, erlangC, type MmcOptions, type MmcQueue, mmcQueue } from './fundamentals/queueing.js';
export {
  type BudgetOptions,
  budgetConsumed,
  type SliSeries,
  sliSeriesFromSlo,
} from './fundamentals/sli-series.js';
export { Counter } from './metrics/counter.js';
export { Gauge } from './metrics/gauge.js';
export type { MetricsClock } from './metrics/grid.js';
export { Histogram } from './metrics/histogram.js';
export { type Instrument, MetricsRegistry, type MetricsRegistryOptions } from './metrics/registry.js';
export {
  type SloFigures,
  type SloOptions,
  type SloReport,
  SloTracker,
  type SloWindow,
} from './metrics/slo.js';
export type {
  GaugeSeries,
  GaugeSnapshot,
  HistogramSeries,
  HistogramSnapshot,
  MetricsSeries,
  MetricsSnapshot,
  NodeMetricsSnapshot,
  NodeSeries,
} from './metrics/snapshot.js';
export { NodeClock } from './net/clock.js';
export { applyFault, type Fault, type ScheduledFault, scheduleFaults } from './net/faults.js';
export { DEFAULT_LINK, type LinkOptions } from './net/link.js';
export {
  type DropReason,
  type Message,
  Network,
  type NetworkOptions,
  type NetworkStats,
  type PartitionHandle,
  type SendOptions,
} from './net/network.js';
export { NetNode, type NodeState, type NodeTimer, type RestartInfo } from './net/node.js';
export {
  checkBoolean,
  checkDistribution,
  checkDuration,
  checkEnum,
  checkFunction,
  checkKeys,
  checkKindOf,
  checkName,
  checkNumber,
  checkObject,
  checkProbability,
  type DistributionRule,
  type DurationRule,
  durationMs,
  fieldPath,
  invalidOption,
  isDistribution,
  isObject,
  type NumberRule,
  nested,
  type OptionOwner,
  type Owner,
  owner,
  requireOptions,
} from './option-values.js';
export { checkKind, checkOptions, didYouMean, type OptionKeys, optionKeys } from './options.js';
export { Interrupt, Process, type ProcessBody, type ProcessGenerator } from './process.js';
export type { NormalParams, UniformParams } from './random/continuous.js';
export {
  constant,
  type ExponentialParams,
  exponential,
  type LognormalParams,
  lognormal,
  lognormalFromMean,
  normal,
  type ParetoParams,
  pareto,
  uniform,
  type WeibullParams,
  weibull,
} from './random/continuous.js';
export { bernoulli, poisson } from './random/discrete.js';
export type { Distribution } from './random/distribution.js';
export { type EmpiricalOptions, empirical } from './random/empirical.js';
export { type ErlangParams, erlang, type GammaParams, gamma } from './random/gamma.js';
export { deriveStream, RandomStream } from './random/stream.js';
export {
  TRUNCATE_MAX_REJECTIONS,
  TRUNCATE_MIN_ACCEPTED,
  TRUNCATE_TRIALS,
  type TruncateBounds,
  truncate,
} from './random/truncate.js';
export { ZIPF_MAX_N, type ZipfParams, zipf } from './random/zipf.js';
export {
  Preempted,
  type QueueDiscipline,
  type RequestOptions,
  Resource,
  type ResourceOptions,
  ResourceRequest,
  type ResourceRequestStatus,
} from './resource.js';
export {
  type CallOptions,
  type Reply,
  type ReplyErrorOptions,
  RpcEndpoint,
  type RpcStats,
} from './rpc/endpoint.js';
export {
  RPC_ERROR_KINDS,
  type RpcError,
  type RpcErrorKind,
  type RpcRequest,
  type RpcResponse,
} from './rpc/types.js';
export {
  type FaultLogEntry,
  isSimulation,
  type RunOptions,
  type RunSummary,
  type ScheduleOptions,
  Simulation,
  type SimulationOptions,
} from './simulation.js';
export { LatencyHistogram, type LatencyHistogramOptions, type LatencySummary } from './stats/histogram.js';
export { Tally } from './stats/tally.js';
export { TimeWeighted } from './stats/time-weighted.js';
export {
  PriorityStore,
  type PriorityStoreOptions,
  Store,
  StoreGet,
  type StoreOptions,
  StorePut,
} from './store.js';
export { checkCallOptions } from './strict.js';
export type { CoreTraceFields, RunStopReason, TraceListener, TraceRecord, TraceRecordBase } from './trace.js';
