import { param } from '../params.js';
import { defineSystemScenario } from '../system/system-scenario.js';
import { MAX_FACTOR, MAX_MS, MAX_RATE, MAX_SECONDS, MAX_WORKERS } from './limits.js';

/**
 * `bulkhead`: a frontend calls two dependencies through semaphore bulkheads. During an incident one
 * dependency (`b`) becomes very slow. With one shared pool of permits the slow calls hold every permit and
 * calls to the healthy dependency (`a`) are rejected too; with isolated pools (half the permits each,
 * rounded down) only calls to `b` suffer.
 *
 * A system scenario: clients `to-a` and `to-b` (half the rate each) send to `frontend`, which calls
 * `a` for the first and `b` for the second; phases `before`, `during` (20-40 s) and `after` come from the
 * fault schedule, and `to-a.during.availability` is the healthy dependency's share served in the incident.
 */
export const bulkhead = defineSystemScenario({
  name: 'bulkhead',
  description: 'One slow dependency exhausts a shared pool; isolated pools contain it',
  params: {
    pools: param.enum(['shared', 'isolated'], {
      default: 'shared',
      description: 'one pool for both dependencies, or one each',
    }),
    // A call holds a permit while in flight and a rejected one is answered at once: nothing else piles up.
    permits: param.integer({
      default: 20,
      min: 2,
      max: MAX_WORKERS,
      description: 'concurrent outbound calls in total',
    }),
    rate: param.number({
      default: 100,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description: 'requests per second, half to each dependency',
    }),
    serviceMs: param.number({
      default: 10,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'dependency service time when healthy',
    }),
    slowdown: param.number({
      default: 200,
      min: 1,
      max: MAX_FACTOR,
      description: 'factor by which b slows down during the incident',
    }),
    timeoutMs: param.number({ default: 3000, min: 1, max: MAX_MS, description: 'frontend call timeout' }),
    seconds: param.number({
      default: 60,
      min: 30,
      max: MAX_SECONDS,
      description: 'simulated seconds; the incident runs from 20 s to 40 s',
    }),
  },
  variants: [
    { name: 'shared', params: { pools: 'shared' } },
    { name: 'isolated', params: { pools: 'isolated' } },
  ],
  system: (p) => {
    // Poisson at half the rate each: the same as sending each request to a or b at random.
    const users = {
      kind: 'clients',
      target: 'frontend',
      workload: { kind: 'open', rate: p.rate / 2 },
      until: p.seconds * 1000,
    } as const;
    const dependency = {
      kind: 'service',
      concurrency: 1000,
      serviceTime: { exponential: { mean: p.serviceMs } },
    } as const;
    // Half the permits each (rounded down: an odd total cannot be halved into whole permits).
    const half = { bulkhead: { maxConcurrentCalls: Math.floor(p.permits / 2) } };
    const isolated = p.pools === 'isolated' ? half : {};
    const call = (dep: string) => ({ to: dep, timeout: p.timeoutMs, onlyFrom: [`to-${dep}`], ...isolated });
    return {
      nodes: {
        'to-a': users,
        'to-b': users,
        // The frontend only forwards: no worker limit, its calls are bounded by the bulkheads alone.
        frontend: {
          kind: 'service',
          concurrency: MAX_WORKERS,
          serviceTime: 0,
          downstream: [call('a'), call('b')],
          ...(p.pools === 'shared' ? { bulkhead: { maxConcurrentCalls: p.permits } } : {}),
        },
        a: dependency,
        b: dependency,
      },
      network: { latency: 1 },
      faults: [{ at: '20s', for: '20s', fault: { kind: 'degrade', node: 'b', factor: 1 / p.slowdown } }],
    };
  },
  outcome: (m) => ({
    aAvailabilityDuring: m.availability('to-a', 'during'),
    bAvailabilityDuring: m.availability('to-b', 'during'),
  }),
  checks: (m, check, p) => {
    const a = m.get('aAvailabilityDuring');
    if (p.pools === 'isolated')
      check(
        'isolated pools keep the healthy dependency available during the incident',
        a > 0.99,
        `a: ${a.toFixed(3)} ok`,
      );
    else
      check(
        'a shared pool lets the slow dependency starve the healthy one',
        a < 0.5,
        `a: ${a.toFixed(3)} ok`,
      );
  },
});
