import {
  checkBoolean,
  checkDuration,
  checkEnum,
  checkKindOf,
  checkNumber,
  invalidOption,
  type Owner,
  optionKeys,
  owner,
} from '@dsim/core';
import { isPrime, MAGLEV_MAX_TABLE_SIZE } from '../../hashing/maglev.js';
import { RING_MAX_POINTS } from '../../hashing/ring.js';
import type { BalancerPolicy } from '../policy.js';
import { ConsistentBoundedPolicy, type ConsistentBoundedPolicySpec } from './consistent-bounded.js';
import { FirstPolicy, type FirstPolicySpec } from './first.js';
import { HaproxyHashPolicy, type HaproxyHashPolicySpec, type HaproxyHashType } from './haproxy-hash.js';
import { HaproxyRandomPolicy, type HaproxyRandomPolicySpec } from './haproxy-random.js';
import { LeastRequestPolicy, type LeastRequestPolicySpec, type PowerOfDPolicySpec } from './least-request.js';
import { LeastConnPolicy, type LeastConnPolicySpec } from './leastconn.js';
import { MaglevPolicy, type MaglevPolicySpec } from './maglev.js';
import { PeakEwmaPolicy, type PeakEwmaPolicySpec } from './peak-ewma.js';
import { RandomBalancerPolicy, type RandomBalancerPolicySpec } from './random.js';
import { RingHashPolicy, type RingHashPolicySpec } from './ring-hash.js';
import { RoundRobinPolicy, type RoundRobinPolicySpec } from './round-robin.js';
import {
  WeightedRoundRobinPolicy,
  type WeightedRoundRobinPolicySpec,
  type WrrScheduler,
} from './weighted-round-robin.js';

/**
 * A built-in balancing policy described as data: `kind` plus that policy's options.
 *
 * @example
 * ```ts
 * const spec: BalancerPolicySpec = { kind: 'least-request', choiceCount: 2 };
 * ```
 */
export type BalancerPolicySpec =
  | RoundRobinPolicySpec
  | WeightedRoundRobinPolicySpec
  | RandomBalancerPolicySpec
  | LeastRequestPolicySpec
  | PowerOfDPolicySpec
  | RingHashPolicySpec
  | MaglevPolicySpec
  | ConsistentBoundedPolicySpec
  | FirstPolicySpec
  | PeakEwmaPolicySpec
  | HaproxyHashPolicySpec
  | HaproxyRandomPolicySpec
  | LeastConnPolicySpec;

/**
 * The name of a built-in policy.
 *
 * @example
 * ```ts
 * const kind: BalancerPolicyKind = 'maglev';
 * ```
 */
export type BalancerPolicyKind = BalancerPolicySpec['kind'];

type KeysOf<K extends BalancerPolicyKind> = Extract<BalancerPolicySpec, { kind: K }>;

const KINDS = {
  'round-robin': optionKeys<KeysOf<'round-robin'>>()({ kind: true }),
  'weighted-round-robin': optionKeys<KeysOf<'weighted-round-robin'>>()({ kind: true, scheduler: true }),
  random: optionKeys<KeysOf<'random'>>()({ kind: true }),
  'least-request': optionKeys<KeysOf<'least-request'>>()({
    kind: true,
    choiceCount: true,
    fullScan: true,
    activeRequestBias: true,
  }),
  'power-of-d': optionKeys<KeysOf<'power-of-d'>>()({ kind: true, d: true }),
  'ring-hash': optionKeys<KeysOf<'ring-hash'>>()({ kind: true, minimumRingSize: true }),
  maglev: optionKeys<KeysOf<'maglev'>>()({ kind: true, tableSize: true }),
  'consistent-bounded': optionKeys<KeysOf<'consistent-bounded'>>()({
    kind: true,
    hashBalanceFactor: true,
    minimumRingSize: true,
  }),
  first: optionKeys<KeysOf<'first'>>()({ kind: true, maxConn: true }),
  'peak-ewma': optionKeys<KeysOf<'peak-ewma'>>()({
    kind: true,
    decay: true,
    defaultRtt: true,
    choiceCount: true,
  }),
  'haproxy-hash': optionKeys<KeysOf<'haproxy-hash'>>()({ kind: true, hashType: true }),
  'haproxy-random': optionKeys<KeysOf<'haproxy-random'>>()({ kind: true, draws: true }),
  leastconn: optionKeys<KeysOf<'leastconn'>>()({ kind: true }),
} satisfies Record<BalancerPolicyKind, readonly string[]>;

/**
 * Every built-in policy kind, in a stable order.
 *
 * @example
 * ```ts
 * for (const kind of BALANCER_POLICY_KINDS) console.log(kind); // 'round-robin', 'weighted-round-robin', ...
 * ```
 */
export const BALANCER_POLICY_KINDS = Object.freeze(Object.keys(KINDS)) as readonly BalancerPolicyKind[];

const SCHEDULERS: readonly WrrScheduler[] = ['smooth', 'edf'];

const HASH_TYPES: readonly HaproxyHashType[] = ['map-based', 'consistent'];

const COUNT = { integer: true, min: 1 } as const;

/**
 * Builds a built-in policy from its spec, checking every field at construction: a misspelt `kind` or key
 * is an INVALID_ARGUMENT error with a "did you mean", a bad value names its field
 * (`LoadBalancer: policy.choiceCount must be an integer >= 1, got 0`).
 *
 * @param spec - the policy and its options
 * @param where - who configures it, for error messages @default owner('createBalancerPolicy')
 * @example
 * ```ts
 * const policy = createBalancerPolicy({ kind: 'weighted-round-robin', scheduler: 'edf' });
 * ```
 */
export function createBalancerPolicy(
  spec: BalancerPolicySpec,
  where: Owner = owner('createBalancerPolicy'),
): BalancerPolicy {
  const kind = checkKindOf(where, spec, KINDS);
  switch (kind) {
    case 'round-robin':
      return new RoundRobinPolicy();
    case 'weighted-round-robin': {
      const s = spec as WeightedRoundRobinPolicySpec;
      return new WeightedRoundRobinPolicy(checkEnum(where, 'scheduler', s.scheduler, SCHEDULERS, 'smooth'));
    }
    case 'random':
      return new RandomBalancerPolicy();
    case 'least-request': {
      const s = spec as LeastRequestPolicySpec;
      return new LeastRequestPolicy({
        choiceCount: checkNumber(where, 'choiceCount', s.choiceCount, COUNT, 2),
        fullScan: checkBoolean(where, 'fullScan', s.fullScan, false),
        activeRequestBias: checkNumber(where, 'activeRequestBias', s.activeRequestBias, { min: 0 }, 1),
      });
    }
    case 'power-of-d': {
      const d = checkNumber(where, 'd', (spec as PowerOfDPolicySpec).d, COUNT, 2);
      return new LeastRequestPolicy({ choiceCount: d }, 'power-of-d', false);
    }
    case 'ring-hash':
      return new RingHashPolicy(ringSize(where, (spec as RingHashPolicySpec).minimumRingSize));
    case 'maglev': {
      const size = (spec as MaglevPolicySpec).tableSize;
      if (size !== undefined && (!isPrime(size) || size > MAGLEV_MAX_TABLE_SIZE))
        throw invalidOption(where, 'tableSize', size, `a prime in [2, ${MAGLEV_MAX_TABLE_SIZE}]`);
      return new MaglevPolicy(size);
    }
    case 'consistent-bounded': {
      const s = spec as ConsistentBoundedPolicySpec;
      const factor = checkNumber(
        where,
        'hashBalanceFactor',
        s.hashBalanceFactor,
        { integer: true, min: 100, max: 100_000, unit: 'percent of the average load' },
        125,
      );
      return new ConsistentBoundedPolicy(factor, ringSize(where, s.minimumRingSize));
    }
    case 'first':
      return new FirstPolicy(checkNumber(where, 'maxConn', (spec as FirstPolicySpec).maxConn, COUNT));
    case 'peak-ewma': {
      const s = spec as PeakEwmaPolicySpec;
      return new PeakEwmaPolicy(
        checkDuration(where, 'decay', s.decay, { positive: true }, 10_000),
        checkDuration(where, 'defaultRtt', s.defaultRtt, {}, 30),
        checkNumber(where, 'choiceCount', s.choiceCount, COUNT, 2),
      );
    }
    case 'haproxy-hash': {
      const hashType = (spec as HaproxyHashPolicySpec).hashType;
      return new HaproxyHashPolicy(checkEnum(where, 'hashType', hashType, HASH_TYPES, 'map-based'));
    }
    case 'haproxy-random':
      return new HaproxyRandomPolicy(
        checkNumber(where, 'draws', (spec as HaproxyRandomPolicySpec).draws, COUNT, 2),
      );
    case 'leastconn':
      return new LeastConnPolicy();
  }
}

function ringSize(where: Owner, value: unknown): number {
  return checkNumber(where, 'minimumRingSize', value, { integer: true, min: 1, max: RING_MAX_POINTS }, 1024);
}
