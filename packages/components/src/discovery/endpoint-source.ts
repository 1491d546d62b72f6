import {
  checkBoolean,
  checkDuration,
  checkOptions,
  type Duration,
  invalidOption,
  optionKeys,
} from '@dsim/core';

/**
 * Called when a discovery source's endpoint list changes: the new list (in the source's order), the
 * addresses that joined and those that left.
 *
 * @example
 * ```ts
 * const log: EndpointListener = (endpoints, added, removed) => sim.log(`${endpoints.length} endpoints, -${removed.join(',')}`);
 * ```
 */
export type EndpointListener = (
  endpoints: readonly string[],
  added: readonly string[],
  removed: readonly string[],
) => void;

/**
 * What a client-side view of a service exposes: the endpoint addresses it would use now, and a way to
 * hear of changes. {@link EurekaClient}, {@link ServiceEndpoints} implement it; {@link feedLoadBalancer}
 * keeps a `LoadBalancer`'s backends equal to it.
 *
 * @example
 * ```ts
 * const stop = source.onChange((endpoints) => sim.log(endpoints.join(' ')));
 * ```
 */
export interface EndpointSource {
  /** The endpoints as the client sees them now. */
  readonly endpoints: readonly string[];
  /** Calls `listener` after every change; returns a function that removes it. */
  onChange(listener: EndpointListener): () => void;
}

/**
 * A list of endpoints that tells its listeners when it changes. Discovery components publish through
 * one; a change is only a change of membership (order and duplicates are ignored).
 *
 * @example
 * ```ts
 * const list = new EndpointList();
 * list.onChange((eps, added) => sim.log(`+${added.join(',')}`));
 * list.set(['app-0', 'app-1']); // true: both added
 * list.set(['app-1', 'app-0']); // false: same members
 * ```
 */
export class EndpointList implements EndpointSource {
  private current: readonly string[] = Object.freeze([]);
  private readonly listeners: EndpointListener[] = [];

  get endpoints(): readonly string[] {
    return this.current;
  }

  /** Whether `address` is in the list. */
  has(address: string): boolean {
    return this.current.includes(address);
  }

  onChange(listener: EndpointListener): () => void {
    if (typeof listener !== 'function')
      throw invalidOption(
        'EndpointList',
        'onChange(listener)',
        listener,
        'a function (endpoints, added, removed) => void',
      );
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  /** Replaces the list; returns whether its membership changed (listeners are called only then). */
  set(next: readonly string[]): boolean {
    const before = this.current;
    const added = next.filter((a, i) => !before.includes(a) && next.indexOf(a) === i);
    const removed = before.filter((a) => !next.includes(a));
    if (added.length === 0 && removed.length === 0) return false;
    this.current = Object.freeze([...new Set(next)]);
    for (const listener of [...this.listeners]) listener(this.current, added, removed);
    return true;
  }
}

/**
 * What {@link feedLoadBalancer} needs of a balancer: `LoadBalancer` and `L4Balancer`-like objects with a
 * live address list and add / remove verbs.
 *
 * @example
 * ```ts
 * const target: EndpointTarget = lb; // a LoadBalancer
 * ```
 */
export interface EndpointTarget {
  readonly addresses: readonly string[];
  addBackend(address: string): void;
  removeBackend(address: string, options?: { drain?: Duration | boolean }): boolean;
}

/**
 * Options of {@link feedLoadBalancer}.
 *
 * @example
 * ```ts
 * const options: FeedOptions = { drain: '5s' };
 * ```
 */
export interface FeedOptions {
  /**
   * Passed to `removeBackend` for every endpoint that leaves: `false` removes it with no drain deadline,
   * a duration drains it (see `RemoveBackendOptions.drain`).
   * @default false
   */
  drain?: Duration | boolean;
}

const FEED_KEYS = optionKeys<FeedOptions>()({ drain: true });

/**
 * Keeps `target`'s backends equal to `source`'s endpoints: the current endpoints are added at once
 * (backends not in the source are removed), then every change is applied with `addBackend` and
 * `removeBackend` the moment the source publishes it. This is the client-side balancer fed by
 * discovery: requests keep going to an endpoint until the source drops it.
 *
 * @returns a function that stops following the source
 * @example
 * ```ts
 * const lb = new LoadBalancer(net.addNode('client-lb'), { backends: [], timeout: '1s' });
 * feedLoadBalancer(eurekaClient, lb);
 * ```
 */
export function feedLoadBalancer(
  source: EndpointSource,
  target: EndpointTarget,
  options?: FeedOptions,
): () => void {
  if (source === null || typeof source !== 'object' || typeof source.onChange !== 'function')
    throw invalidOption('feedLoadBalancer', 'source', source, 'an EndpointSource (endpoints, onChange)');
  if (
    target === null ||
    typeof target !== 'object' ||
    typeof target.addBackend !== 'function' ||
    typeof target.removeBackend !== 'function'
  )
    throw invalidOption(
      'feedLoadBalancer',
      'target',
      target,
      'a balancer with addresses, addBackend and removeBackend',
    );
  checkOptions('feedLoadBalancer', options ?? {}, FEED_KEYS);
  const raw = options?.drain;
  const drain: Duration | boolean =
    raw === undefined
      ? false
      : typeof raw === 'boolean'
        ? checkBoolean('feedLoadBalancer', 'drain', raw)
        : checkDuration('feedLoadBalancer', 'drain', raw, { infinity: true });
  const removeOptions = drain === false ? undefined : { drain };
  for (const a of [...target.addresses])
    if (!source.endpoints.includes(a)) target.removeBackend(a, removeOptions);
  for (const a of source.endpoints) if (!target.addresses.includes(a)) target.addBackend(a);
  return source.onChange((_endpoints, added, removed) => {
    for (const a of removed) target.removeBackend(a, removeOptions);
    for (const a of added) if (!target.addresses.includes(a)) target.addBackend(a);
  });
}
