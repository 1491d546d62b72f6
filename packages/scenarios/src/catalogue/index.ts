import type { Scenario } from '../scenario.js';
import { backoffJitter } from './backoff-jitter.js';
import { bulkhead } from './bulkhead.js';
import { circuitBreaker } from './circuit-breaker.js';
import { goodputCollapse } from './goodput-collapse.js';
import { mmc } from './mmc.js';
import { rateLimiting } from './rate-limiting.js';
import { retryStorm } from './retry-storm.js';
import { tailAtScale } from './tail-at-scale.js';

export { BROOKER_100_CLIENTS, backoffJitter } from './backoff-jitter.js';
export { bulkhead } from './bulkhead.js';
export { circuitBreaker } from './circuit-breaker.js';
export { type DeadlineQueueTheory, goodputCollapse, mm1kDeadlineGoodput } from './goodput-collapse.js';
export { mmc } from './mmc.js';
export { rateLimiting } from './rate-limiting.js';
export { retryStorm } from './retry-storm.js';
export { tailAtScale } from './tail-at-scale.js';

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
]);
