/**
 * @dsim/scenarios: define, run and compare scenarios; the built-in catalogue; the `dsim` CLI.
 */
export { BatchMeans } from './batch-means.js';
export {
  BROOKER_100_CLIENTS,
  backoffJitter,
  builtinScenarios,
  bulkhead,
  type CacheFlushModel,
  type CacheFlushTheory,
  cacheFlush,
  cacheFlushTheory,
  cacheStampede,
  cdn,
  circuitBreaker,
  connectionPoolExhaustion,
  criticalSpikeMs,
  type DeadlineQueueTheory,
  distributedCache,
  type ExpiryHerdModel,
  effectiveCapacity,
  evictionPolicies,
  expiryHerdPeak,
  fullJitterReconnectRate,
  type GcModel,
  type GcTippingPoint,
  gcDeathSpiral,
  gcTippingPoint,
  goodputCollapse,
  lbAlgorithms,
  leastConnBlackHole,
  mm1kDeadlineGoodput,
  mmc,
  rateLimiting,
  retryStorm,
  roundRobinMeanTime,
  tailAtScale,
  thunderingHerd,
  timeoutCascade,
  writePolicies,
} from './catalogue/index.js';
export { type CliIO, loadScenario, main } from './cli-main.js';
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
export { RequestStats, type RunMetrics } from './request-stats.js';
export {
  type CheckResult,
  defineScenario,
  type Outcome,
  type RunScenarioOptions,
  runScenario,
  type Scenario,
  type ScenarioContext,
  type ScenarioResult,
  type VariantDefinition,
  type VariantResult,
} from './scenario.js';
