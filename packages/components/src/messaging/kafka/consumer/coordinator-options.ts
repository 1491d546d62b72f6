import { checkDuration, checkEnum, type Duration, optionKeys, owner, requireOptions } from '@dsim/core';

/**
 * Options of a {@link GroupCoordinator}, named after Kafka's GroupCoordinatorConfig (durations without
 * `.ms`). Defaults are Kafka 4.0's.
 *
 * @example
 * ```ts
 * new GroupCoordinator(net.addNode('gc'), { groupInitialRebalanceDelay: 0 });
 * ```
 */
export interface GroupCoordinatorOptions {
  /** `group.initial.rebalance.delay.ms`: the first rebalance of an empty classic group waits this long for more members (extended by each new member, up to the rebalance timeout). @default 3000 ms */
  groupInitialRebalanceDelay?: Duration;
  /** `group.min.session.timeout.ms`: a classic member asking for less is refused. @default 6000 ms */
  groupMinSessionTimeout?: Duration;
  /** `group.max.session.timeout.ms`. @default 1800000 ms */
  groupMaxSessionTimeout?: Duration;
  /** `group.consumer.heartbeat.interval.ms` (KIP-848 groups). @default 5000 ms */
  consumerHeartbeatInterval?: Duration;
  /** `group.consumer.session.timeout.ms` (KIP-848 groups). @default 45000 ms */
  consumerSessionTimeout?: Duration;
  /** `group.consumer.assignors` (KIP-848's server-side assignor): `uniform` (sticky) or `range`. @default 'uniform' */
  consumerAssignor?: 'uniform' | 'range';
}

/** @internal */
export const GROUP_COORDINATOR_KEYS = optionKeys<GroupCoordinatorOptions>()({
  groupInitialRebalanceDelay: true,
  groupMinSessionTimeout: true,
  groupMaxSessionTimeout: true,
  consumerHeartbeatInterval: true,
  consumerSessionTimeout: true,
  consumerAssignor: true,
});

/** Resolved coordinator config. @internal */
export interface CoordinatorConfig {
  readonly initialRebalanceDelayMs: number;
  readonly minSessionTimeoutMs: number;
  readonly maxSessionTimeoutMs: number;
  readonly consumerHeartbeatIntervalMs: number;
  readonly consumerSessionTimeoutMs: number;
  readonly consumerAssignor: 'uniform' | 'range';
}

/** @internal */
export function resolveCoordinatorConfig(options: GroupCoordinatorOptions): CoordinatorConfig {
  const where = owner('GroupCoordinator');
  requireOptions(where, options, GROUP_COORDINATOR_KEYS);
  const min = checkDuration(where, 'groupMinSessionTimeout', options.groupMinSessionTimeout, {}, 6_000);
  return {
    initialRebalanceDelayMs: checkDuration(
      where,
      'groupInitialRebalanceDelay',
      options.groupInitialRebalanceDelay,
      {},
      3_000,
    ),
    minSessionTimeoutMs: min,
    maxSessionTimeoutMs: checkDuration(
      where,
      'groupMaxSessionTimeout',
      options.groupMaxSessionTimeout,
      { min },
      1_800_000,
    ),
    consumerHeartbeatIntervalMs: checkDuration(
      where,
      'consumerHeartbeatInterval',
      options.consumerHeartbeatInterval,
      { positive: true },
      5_000,
    ),
    consumerSessionTimeoutMs: checkDuration(
      where,
      'consumerSessionTimeout',
      options.consumerSessionTimeout,
      { positive: true },
      45_000,
    ),
    consumerAssignor: checkEnum(
      where,
      'consumerAssignor',
      options.consumerAssignor,
      ['uniform', 'range'] as const,
      'uniform',
    ),
  };
}
