/**
 * Why a message was dead-lettered (https://www.rabbitmq.com/docs/dlx#overview): `rejected` (nack or
 * reject with `requeue: false`), `expired` (message TTL), `maxlen` (queue length limit with `drop-head`
 * or `reject-publish-dlx`), `delivery_limit` (a quorum queue's delivery limit was exceeded).
 *
 * @example
 * ```ts
 * const reason: DeadLetterReason = 'expired';
 * ```
 */
export type DeadLetterReason = 'rejected' | 'expired' | 'maxlen' | 'delivery_limit';

/** Every {@link DeadLetterReason}. */
export const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = Object.freeze([
  'rejected',
  'expired',
  'maxlen',
  'delivery_limit',
]);

/**
 * One entry of a message's `x-death` history: how many times it was dead-lettered from `queue` for
 * `reason` (https://www.rabbitmq.com/docs/dlx#effects). The most recent death comes first; a repeated
 * (queue, reason) increments `count` and moves to the front.
 *
 * @example
 * ```ts
 * const death: XDeath = { queue: 'work', reason: 'rejected', count: 1, exchange: 'jobs', routingKeys: ['a'], time: 1200 };
 * ```
 */
export interface XDeath {
  readonly queue: string;
  readonly reason: DeadLetterReason;
  readonly count: number;
  /** The exchange the message had been published to before this death. */
  readonly exchange: string;
  /** Its routing keys before this death. */
  readonly routingKeys: readonly string[];
  /** Simulated time of the first death for this (queue, reason). */
  readonly time: number;
}

/**
 * A message as the broker holds it: immutable; dead-lettering makes a new one.
 *
 * @example
 * ```ts
 * const m: AmqpMessage = { id: 1, exchange: '', routingKey: 'q', body: 'hi', size: 2, persistent: false,
 *   expiration: Infinity, publishedAt: 0, deaths: [] };
 * ```
 */
export interface AmqpMessage {
  /** Broker-wide id of the publish (kept through dead-lettering). */
  readonly id: number;
  readonly exchange: string;
  readonly routingKey: string;
  readonly body: unknown;
  /** Body size in bytes. */
  readonly size: number;
  readonly persistent: boolean;
  /** Per-message TTL in ms (Infinity when none). Removed on dead-lettering, as RabbitMQ does. */
  readonly expiration: number;
  /** When the client published it (true time). */
  readonly publishedAt: number;
  /** `x-death`, most recent first. */
  readonly deaths: readonly XDeath[];
}

/**
 * The new `x-death` list after a death from `queue` for `reason` (RabbitMQ's `mc:record_death`).
 *
 * @example
 * ```ts
 * recordDeath([], 'work', 'expired', 'jobs', ['a'], 10); // [{ queue: 'work', reason: 'expired', count: 1, ... }]
 * ```
 */
export function recordDeath(
  deaths: readonly XDeath[],
  queue: string,
  reason: DeadLetterReason,
  exchange: string,
  routingKeys: readonly string[],
  now: number,
): readonly XDeath[] {
  const i = deaths.findIndex((d) => d.queue === queue && d.reason === reason);
  if (i < 0) return [{ queue, reason, count: 1, exchange, routingKeys, time: now }, ...deaths];
  const old = deaths[i]!;
  return [{ ...old, count: old.count + 1 }, ...deaths.slice(0, i), ...deaths.slice(i + 1)];
}

/**
 * Whether dead-lettering to `target` closes a cycle that RabbitMQ drops (`mc:is_death_cycle`): the
 * message already died in `target` and no death since then (including that one) was `rejected`. Call
 * it with the deaths after the current one was recorded; a `rejected` death is never a cycle.
 *
 * @example
 * ```ts
 * isDeathCycle('a', [{ queue: 'b', reason: 'expired', ... }, { queue: 'a', reason: 'expired', ... }]); // true
 * ```
 */
export function isDeathCycle(target: string, deaths: readonly XDeath[]): boolean {
  const i = deaths.findIndex((d) => d.queue === target);
  if (i < 0) return false;
  for (let k = 0; k <= i; k++) if (deaths[k]!.reason === 'rejected') return false;
  return true;
}
