import type { ExchangeType } from './options.js';
import { topicMatches } from './topic.js';

/** One binding: messages the exchange routes with a matching key go to `queue`. */
export interface AmqpBinding {
  readonly queue: string;
  readonly key: string;
}

/**
 * An exchange: a routing table from routing keys to queue names. `direct` matches the key exactly,
 * `fanout` ignores it, `topic` matches words with `*` and `#` ({@link topicMatches}). A queue bound twice
 * with matching keys gets the message once (https://www.rabbitmq.com/tutorials/tutorial-five-javascript).
 * The default exchange (`''`) is not an instance: the broker routes it to the queue named by the key.
 *
 * @example
 * ```ts
 * const x = new AmqpExchange('logs', 'topic', false);
 * x.bind('errors', '*.error');
 * x.route('db.error'); // ['errors']
 * ```
 */
export class AmqpExchange {
  private readonly bindings: AmqpBinding[] = [];

  constructor(
    readonly name: string,
    readonly type: ExchangeType,
    readonly durable: boolean,
  ) {}

  /** Adds a binding (a duplicate is ignored, as `queue.bind` is idempotent). */
  bind(queue: string, key: string): void {
    if (!this.bindings.some((b) => b.queue === queue && b.key === key)) this.bindings.push({ queue, key });
  }

  /** Removes a binding; false when there was none. */
  unbind(queue: string, key: string): boolean {
    const i = this.bindings.findIndex((b) => b.queue === queue && b.key === key);
    if (i < 0) return false;
    this.bindings.splice(i, 1);
    return true;
  }

  /** Removes every binding to `queue` (the queue was deleted). */
  unbindQueue(queue: string): void {
    for (let i = this.bindings.length - 1; i >= 0; i--)
      if (this.bindings[i]!.queue === queue) this.bindings.splice(i, 1);
  }

  /** The bindings, in the order they were made. */
  get all(): readonly AmqpBinding[] {
    return this.bindings;
  }

  /** The queues a message with `routingKey` goes to, each once, in binding order. */
  route(routingKey: string): string[] {
    const out: string[] = [];
    for (const b of this.bindings) {
      if (out.includes(b.queue)) continue;
      const match =
        this.type === 'fanout' ||
        (this.type === 'direct' ? b.key === routingKey : topicMatches(b.key, routingKey));
      if (match) out.push(b.queue);
    }
    return out;
  }
}
