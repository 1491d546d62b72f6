import {
  type Counter,
  checkDistribution,
  checkDuration,
  checkEnum,
  checkNumber,
  constant,
  type Distribution,
  type Duration,
  type NetNode,
  optionKeys,
  owner,
  type RandomStream,
  RpcEndpoint,
  requireOptions,
  type Simulation,
} from '@dsim/core';

/**
 * Options of a {@link DedupStore}: how many message ids it remembers, and for how long.
 *
 * @example
 * ```ts
 * new DedupStore(sim, { maxEntries: 10_000, ttl: '1h', eviction: 'fifo' });
 * ```
 */
export interface DedupStoreOptions {
  /** Most ids remembered; beyond it the oldest (`fifo`) or least recently seen (`lru`) is forgotten. Infinity for no bound. @default 100000 */
  maxEntries?: number;
  /** How long an id is remembered after it was recorded (or, with `lru`, last seen). Infinity for ever. @default Infinity */
  ttl?: Duration;
  /** Which id goes first when the window is full: `fifo` (time-ordered set) or `lru` (a duplicate refreshes it). @default 'fifo' */
  eviction?: 'fifo' | 'lru';
}

const DEDUP_STORE_KEYS = optionKeys<DedupStoreOptions>()({ maxEntries: true, ttl: true, eviction: true });

/**
 * Counters of a {@link DedupStore}: `checks = added + duplicates` at every moment.
 *
 * @example
 * ```ts
 * const { duplicates, evicted } = store.stats;
 * ```
 */
export interface DedupStoreStats {
  /** `checkAndAdd` calls. */
  checks: number;
  /** Ids recorded as new. */
  added: number;
  /** Ids found in the window: duplicates caught. */
  duplicates: number;
  /** Ids forgotten because the window was full. */
  evicted: number;
  /** Ids forgotten because their ttl ran out. */
  expired: number;
}

/**
 * The processed-message-id table of an idempotent consumer: a bounded window of ids, by count
 * (`maxEntries`) and by age (`ttl`), kept as an insertion-ordered set (time order, or recency order with
 * `lru`). `checkAndAdd(id)` records a new id and says whether it was new; an id forgotten by the window
 * is new again, which is how duplicates slip through a window that is too small.
 *
 * @example
 * ```ts
 * const store = new DedupStore(sim, { maxEntries: 1_000 });
 * store.checkAndAdd('order-1'); // true: first time
 * store.checkAndAdd('order-1'); // false: a duplicate
 * ```
 */
export class DedupStore {
  private readonly ids = new Map<string, number>();
  private readonly counts: DedupStoreStats = { checks: 0, added: 0, duplicates: 0, evicted: 0, expired: 0 };
  /** Resolved options. */
  readonly config: { readonly maxEntries: number; readonly ttlMs: number; readonly eviction: 'fifo' | 'lru' };

  /** @param options - see {@link DedupStoreOptions}; unknown keys and bad values throw INVALID_ARGUMENT */
  constructor(
    private readonly sim: Simulation,
    options: DedupStoreOptions = {},
  ) {
    const where = owner('DedupStore');
    requireOptions(where, options, DEDUP_STORE_KEYS);
    this.config = {
      maxEntries: checkNumber(
        where,
        'maxEntries',
        options.maxEntries,
        { integer: true, min: 1, infinity: true },
        100_000,
      ),
      ttlMs: checkDuration(where, 'ttl', options.ttl ?? Infinity, { positive: true, infinity: true }),
      eviction: checkEnum(where, 'eviction', options.eviction, ['fifo', 'lru'] as const, 'fifo'),
    };
  }

  /** Records `id` if it is not in the window; true when it was new, false for a duplicate. */
  checkAndAdd(id: string): boolean {
    this.expire();
    this.counts.checks++;
    if (this.ids.has(id)) {
      this.counts.duplicates++;
      if (this.config.eviction === 'lru') {
        this.ids.delete(id);
        this.ids.set(id, this.sim.now);
      }
      return false;
    }
    this.counts.added++;
    this.ids.set(id, this.sim.now);
    while (this.ids.size > this.config.maxEntries) {
      this.ids.delete(this.ids.keys().next().value as string);
      this.counts.evicted++;
    }
    return true;
  }

  /** Whether `id` is in the window now (does not refresh it). */
  has(id: string): boolean {
    this.expire();
    return this.ids.has(id);
  }

  /** Ids in the window now. */
  get size(): number {
    this.expire();
    return this.ids.size;
  }

  /** A copy of the counters. */
  get stats(): DedupStoreStats {
    return { ...this.counts };
  }

  private expire(): void {
    if (this.config.ttlMs === Infinity) return;
    const now = this.sim.now;
    for (const [id, at] of this.ids) {
      if (at + this.config.ttlMs > now) break;
      this.ids.delete(id);
      this.counts.expired++;
    }
  }
}

/**
 * Options of a {@link DedupStoreServer}: the window's options plus the time one request takes.
 *
 * @example
 * ```ts
 * new DedupStoreServer(net.addNode('redis'), { maxEntries: 50_000, serviceTime: 0.2 });
 * ```
 */
export interface DedupStoreServerOptions extends DedupStoreOptions {
  /** Time the server takes for one check-and-add, sampled per request from stream `<address>/dedup`. Requests run in parallel (no queue). @default 1 ms */
  serviceTime?: Distribution | Duration;
}

const DEDUP_SERVER_KEYS = optionKeys<DedupStoreServerOptions>()({
  maxEntries: true,
  ttl: true,
  eviction: true,
  serviceTime: true,
});

/**
 * A request to a {@link DedupStoreServer}.
 *
 * @example
 * ```ts
 * client.call('redis', { dedup: 'check-and-add', id: 'order-1' } satisfies DedupRequest, { timeout: 100 });
 * ```
 */
export interface DedupRequest {
  readonly dedup: 'check-and-add';
  readonly id: string;
}

/**
 * A remote dedup store (a Redis `SET key NX` or a table with a unique key) on its own node: answers
 * `{ dedup: 'check-and-add', id }` with true (new, recorded) or false (a duplicate) after
 * `serviceTime`. Its window survives the node's crash only with `net.restart(address, { keepState: true })`;
 * a plain restart empties it. Metrics under its address: `dedup.checks`, `dedup.duplicates`.
 *
 * @example
 * ```ts
 * const server = new DedupStoreServer(net.addNode('redis'), { maxEntries: 100_000 });
 * new IdempotentConsumer(sim, { remote: { client: consumer.endpoint, server: 'redis' }, handler });
 * ```
 */
export class DedupStoreServer {
  /** The window; replaced by an empty one when the node restarts without its state. */
  store: DedupStore;
  private readonly serviceTime: Distribution;
  private readonly rng: RandomStream;

  /** @param options - see {@link DedupStoreServerOptions}; unknown keys and bad values throw INVALID_ARGUMENT */
  constructor(
    readonly node: NetNode<any>,
    options: DedupStoreServerOptions = {},
  ) {
    const where = owner('DedupStoreServer');
    requireOptions(where, options, DEDUP_SERVER_KEYS);
    const { serviceTime, ...window } = options;
    this.serviceTime = checkDistribution(
      where,
      'serviceTime',
      serviceTime,
      'exponential({ mean: 1 })',
      {},
      constant(1),
    );
    const sim = node.network.sim;
    this.store = new DedupStore(sim, window);
    this.rng = sim.rng(`${node.address}/dedup`);
    const checks: Counter = sim.metrics.counter(node.address, 'dedup.checks');
    const dups: Counter = sim.metrics.counter(node.address, 'dedup.duplicates');
    node.onRestart((info) => {
      if (!info.keptState) this.store = new DedupStore(sim, window);
    });
    new RpcEndpoint<DedupRequest, boolean>(node).serve((req, reply) => {
      const id = (req.payload as DedupRequest).id;
      node.setTimer(this.serviceTime.sample(this.rng), () => {
        const fresh = this.store.checkAndAdd(id);
        checks.inc();
        if (!fresh) dups.inc();
        reply.ok(fresh);
      });
    });
  }
}
