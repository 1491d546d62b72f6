import {
  type Counter,
  checkDistribution,
  checkFunction,
  checkNumber,
  constant,
  type Distribution,
  type Duration,
  type Histogram,
  invalidArgument,
  type NetNode,
  optionKeys,
  owner,
  requireOptions,
} from '@dsim/core';
import { Service } from '../../service/service.js';
import type { RecordedEvent } from './event-store.js';

/**
 * A request to a {@link ReadModelServer}, sent as an RPC payload.
 * - `apply`: a projection delivers events, in global order; events at or below the read model's checkpoint
 *   are skipped (redelivery is harmless). Answers the new checkpoint.
 * - `query`: the view of one aggregate; answers a {@link ReadModelView} or null if it has none yet.
 *
 * @example
 * ```ts
 * const req: ReadModelRequest = { op: 'query', aggregateId: 'acct-1' };
 * ```
 */
export type ReadModelRequest =
  | { readonly op: 'apply'; readonly events: readonly RecordedEvent[] }
  | { readonly op: 'query'; readonly aggregateId: string };

/**
 * The read model's view of one aggregate.
 *
 * @example
 * ```ts
 * const view = res.value as ReadModelView<number> | null;
 * const sawMyWrite = view !== null && view.version >= myVersion;
 * ```
 */
export interface ReadModelView<V = unknown> {
  /** The last stream version applied. */
  readonly version: number;
  /** Global position of that event. */
  readonly position: number;
  /** The projected value. */
  readonly view: V;
  /** Time (ms) it was last updated. */
  readonly updatedAt: number;
}

/**
 * Options of a {@link ReadModelServer}. An unknown key is an error with a "did you mean".
 *
 * @example
 * ```ts
 * const options: ReadModelServerOptions<number> = { initial: 0, project: (total, e) => total + 1, serviceTime: 0.2 };
 * ```
 */
export interface ReadModelServerOptions<V = number> {
  /**
   * Time to serve one request (an update batch or a query): a distribution (ms) or a duration.
   * @default 0.1 ms
   */
  serviceTime?: Distribution | Duration;
  /**
   * Requests served at once. An integer >= 1.
   * @default 1
   */
  concurrency?: number;
  /**
   * View of an aggregate before its first event.
   * @default 0
   */
  initial?: V;
  /**
   * Folds one event into its aggregate's view.
   * @default counts the events (view = version)
   */
  project?: (view: V, event: RecordedEvent) => V;
  /**
   * Called for each event as it becomes visible, with its staleness (ms from commit to visible).
   * @default none
   */
  onVisible?: (event: RecordedEvent, staleness: number) => void;
}

const READ_MODEL_KEYS = optionKeys<ReadModelServerOptions>()({
  serviceTime: true,
  concurrency: true,
  initial: true,
  project: true,
  onVisible: true,
});

/**
 * The query side of CQRS: a read model on its own node, updated by a {@link Projection} and queried over
 * RPC, served by a {@link Service}. An event becomes visible when the `apply` request carrying it is
 * served; its **staleness** (visible time − commit time at the store) is recorded in the histogram
 * `rm.staleness` under the node's address, with counters `rm.applied` and `rm.queries`.
 *
 * @example
 * ```ts
 * const readModel = new ReadModelServer(net.addNode('read-model'));
 * // ... after the run:
 * readModel.staleness.summary().p99;
 * ```
 */
export class ReadModelServer<V = number> {
  /** The service answering requests. */
  readonly service: Service;
  private readonly views = new Map<string, ReadModelView<V>>();
  private readonly initial: V;
  private readonly project: (view: V, event: RecordedEvent) => V;
  private readonly onVisible: ((event: RecordedEvent, staleness: number) => void) | undefined;
  private checkpointPosition = 0;
  private readonly meters: { staleness: Histogram; applied: Counter; queries: Counter };

  /**
   * @param node - the node the read model runs on (its address names the metrics)
   * @param options - see {@link ReadModelServerOptions}; unknown keys and bad values throw INVALID_ARGUMENT
   */
  constructor(
    readonly node: NetNode<any>,
    options: ReadModelServerOptions<V> = {},
  ) {
    const where = owner('ReadModelServer');
    requireOptions(where, options, READ_MODEL_KEYS);
    const serviceTime = checkDistribution(
      where,
      'serviceTime',
      options.serviceTime,
      'exponential({ mean: 0.2 })',
      {},
      constant(0.1),
    );
    const concurrency = checkNumber(where, 'concurrency', options.concurrency, { integer: true, min: 1 }, 1);
    this.initial = (options.initial ?? 0) as V;
    this.project =
      options.project === undefined
        ? (((_view: V, event: RecordedEvent) => event.version) as unknown as (v: V, e: RecordedEvent) => V)
        : checkFunction(where, 'project', options.project, '(view, event) => view');
    this.onVisible =
      options.onVisible === undefined
        ? undefined
        : checkFunction(where, 'onVisible', options.onVisible, '(event, staleness) => void');
    const m = node.network.sim.metrics;
    this.meters = {
      staleness: m.histogram(node.address, 'rm.staleness'),
      applied: m.counter(node.address, 'rm.applied'),
      queries: m.counter(node.address, 'rm.queries'),
    };
    this.service = new Service(node, {
      serviceTime,
      concurrency,
      respond: (request) => this.handle(request.payload as ReadModelRequest),
    });
  }

  /** Global position of the last event applied. */
  get checkpoint(): number {
    return this.checkpointPosition;
  }

  /** Staleness (ms from commit to visible) of every event applied. */
  get staleness(): Histogram {
    return this.meters.staleness;
  }

  /**
   * The view of an aggregate now, without a request (for checks).
   *
   * @example
   * ```ts
   * readModel.peek('acct-1')?.version;
   * ```
   */
  peek(aggregateId: string): ReadModelView<V> | undefined {
    return this.views.get(aggregateId);
  }

  private handle(request: ReadModelRequest): unknown {
    const where = `read model ${this.node.address}`;
    if (request === null || typeof request !== 'object')
      throw invalidArgument(`${where}: request`, request, 'a ReadModelRequest');
    const now = this.node.network.sim.now;
    switch (request.op) {
      case 'apply': {
        for (const event of request.events) {
          if (event.position <= this.checkpointPosition) continue;
          const held = this.views.get(event.aggregateId);
          this.views.set(event.aggregateId, {
            version: event.version,
            position: event.position,
            view: this.project(held?.view ?? this.initial, event),
            updatedAt: now,
          });
          this.checkpointPosition = event.position;
          const staleness = now - event.appendedAt;
          this.meters.staleness.record(staleness);
          this.meters.applied.inc();
          this.onVisible?.(event, staleness);
        }
        return this.checkpointPosition;
      }
      case 'query':
        this.meters.queries.inc();
        return this.views.get(request.aggregateId) ?? null;
      default:
        throw invalidArgument(`${where}: request.op`, (request as { op: unknown }).op, '"apply" or "query"');
    }
  }
}
