/** A short run of one scenario: small parameters and, where it has many, the variants worth seeing. */
export interface SmallRun {
  readonly params: Record<string, unknown>;
  readonly variants?: readonly string[];
}

// Every built-in scenario must be listed: a new one fails the test below until it is.
export const SMALL: Record<string, SmallRun> = {
  mmc: { params: { customers: 2000 } },
  'l4-vs-l7': { params: { seconds: 20 } },
  'health-checks': { params: { seconds: 15, rate: 100 }, variants: ['passive'] },
  'hash-affinity': {
    params: { keys: 1000, rate: 500, seconds: 4, removeAtSeconds: 2 },
    variants: ['bounded-125'],
  },
  'connection-draining': { params: { seconds: 20, rate: 100 }, variants: ['short-drain'] },
  'slow-start': { params: { seconds: 30, rate: 200 }, variants: ['envoy'] },
  'stale-load-herding': { params: { servers: 8, customers: 2000 }, variants: ['full-scan-T5'] },
  'lb-algorithms': { params: { servers: 10, customers: 2000 }, variants: ['power-of-two'] },
  'least-conn-black-hole': { params: { seconds: 15, rate: 200 }, variants: ['full-scan-outlier-detection'] },
  'retry-storm': { params: { seconds: 30 }, variants: ['naive'] },
  'backoff-jitter': { params: { clients: 20, runs: 2 }, variants: ['full-jitter'] },
  'rate-limiting': { params: { seconds: 30 }, variants: ['leaky-bucket-queue'] },
  'tail-at-scale': { params: { fanout: 20, requests: 200 }, variants: ['hedged'] },
  bulkhead: { params: { seconds: 30 }, variants: ['shared'] },
  'circuit-breaker': { params: { faultSeconds: 5, afterSeconds: 5 }, variants: ['count-based'] },
  'goodput-collapse': { params: { peakSeconds: 10, afterSeconds: 5 }, variants: ['fifo'] },
  'timeout-cascade': { params: { seconds: 25, lambda: 50 }, variants: ['uniform-timeouts'] },
  'gc-death-spiral': { params: { seconds: 20 }, variants: ['no-protection'] },
  'connection-pool-exhaustion': { params: { seconds: 25, lambda: 100 }, variants: ['acquire-timeout'] },
  'cache-stampede': { params: { seconds: 30 }, variants: ['xfetch'] },
  // Two sub-models with nothing in common: one variant of each.
  'thundering-herd': {
    params: { keys: 200, readRate: 1000, ttlMs: 5000, clients: 100, outageMs: 3000 },
    variants: ['ttl-jitter', 'reconnect-backoff-jitter'],
  },
  'cache-flush': {
    params: { readRate: 500, keys: 1000, cacheCapacity: 600, flushAtMs: 5000, seconds: 10 },
    variants: ['coalescing'],
  },
  'eviction-policies': { params: { requests: 5000, warmup: 1000 }, variants: ['w-tinylfu'] },
  'distributed-cache': {
    params: { keys: 1000, rate: 300, seconds: 12, crashAt: 6, downFor: 0 },
    variants: ['ring'],
  },
  cdn: { params: { objects: 2000, rate: 200, seconds: 10 }, variants: ['shield'] },
  'write-policies': { params: { seconds: 10, crashes: 2, writeRate: 100, readRate: 100 } },
  prefetch: { params: { messages: 110 }, variants: ['prefetch-1-far'] },
  backpressure: { params: { seconds: 15, warmupSeconds: 5 }, variants: ['credit'] },
  'event-sourcing-cqrs': { params: { seconds: 10, rebuildEvents: 150 }, variants: ['poll-100ms'] },
  'kafka-durability': { params: { rate: 100, crashAtS: 5, loadAfterS: 5 }, variants: ['acks-1'] },
  'consumer-lag': { params: { seconds: 20, burstAtS: 8, burst: 600 }, variants: ['enough'] },
  'consumer-rebalance': {
    params: { seconds: 30, joinAtS: 8, crashAtS: 12, sessionTimeoutMs: 10_000 },
    variants: ['cooperative'],
  },
  'delivery-guarantees': { params: { messages: 400 }, variants: ['at-least-once'] },
  'strangler-fig': { params: { rate: 5, intervalS: 5, gapMinutes: 1 }, variants: ['canary'] },
  'slo-burn-alerts': { params: {}, variants: ['multiwindow-multi-burn-rate'] },
  'availability-math': { params: { hours: 20000 }, variants: ['parallel-one-zone'] },
  'adaptive-concurrency': { params: { phaseSeconds: 1 }, variants: ['gradient2'] },
  'discovery-staleness': {
    params: { rate: 1, afterSeconds: 95 },
    variants: ['eureka-shutdown', 'k8s-crash'],
  },
  'distributed-rate-limit': {
    params: { limit: 200, windowSeconds: 1, windowsPerPhase: 1 },
    variants: ['central-fail-open', 'synced-100ms'],
  },
  'capacity-planning': { params: { replicas: 5, requests: 1000 }, variants: ['least-request'] },
  saga: {
    params: { sagas: 200, tailSeconds: 20 },
    variants: ['orchestration', 'choreography-at-least-once'],
  },
  'mesh-overhead': {
    params: { seconds: 0.5, hops: 2, failRequests: 1 },
    variants: ['istio-1.12.3', 'retry-amplification'],
  },
  autoscaling: {
    params: {
      leadSeconds: 15,
      rampSeconds: 30,
      holdSeconds: 30,
      spikes: 1,
      spikeEverySeconds: 30,
      spikeSeconds: 10,
      tailSeconds: 15,
    },
    variants: ['hpa-default'],
  },
  'monolith-vs-microservices': { params: { seconds: 20 }, variants: ['microservices-leak'] },
  'service-boundaries': { params: { seconds: 10 }, variants: ['coarse'] },
  'api-gateway': { params: { seconds: 5, noisyRate: 300 }, variants: ['tenant-limits', 'deadline-and-lifo'] },
  'poison-message': {
    params: { messages: 300, tailS: 8 },
    variants: ['kafka-retry-topics', 'rabbit-quorum'],
  },
};
