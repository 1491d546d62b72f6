import {
  type Counter,
  checkDistribution,
  checkNumber,
  constant,
  type Distribution,
  type Duration,
  invalidArgument,
  type NetNode,
  optionKeys,
  owner,
  requireOptions,
} from '@dsim/core';
import { Service } from '../../service/service.js';
import {
  type AppendResult,
  EventStore,
  type ExpectedVersion,
  type RecordedEvent,
  type Snapshot,
} from './event-store.js';

/**
 * A request to an {@link EventStoreServer}, sent as an RPC payload.
 * - `append`: events to a stream with optimistic concurrency; answers an {@link AppendResult}.
 * - `load`: what rebuilding an aggregate needs: the latest snapshot (unless `snapshot: false`) and the
 *   events after it; answers a {@link LoadResponse}.
 * - `read-all`: up to `max` events of the global log after `after`; answers `RecordedEvent[]`.
 * - `save-snapshot`: answers whether it was saved.
 *
 * @example
 * ```ts
 * const req: EventStoreRequest = { op: 'append', aggregateId: 'acct-1', events: [{ deposit: 5 }], expectedVersion: 3 };
 * ```
 */
export type EventStoreRequest =
  | {
      readonly op: 'append';
      readonly aggregateId: string;
      readonly events: readonly unknown[];
      readonly expectedVersion: ExpectedVersion;
    }
  | { readonly op: 'load'; readonly aggregateId: string; readonly snapshot?: boolean }
  | { readonly op: 'read-all'; readonly after: number; readonly max: number }
  | {
      readonly op: 'save-snapshot';
      readonly aggregateId: string;
      readonly version: number;
      readonly state: unknown;
    };

/**
 * Answer to a `load` request: the snapshot to start from (if any) and the events after it.
 *
 * @example
 * ```ts
 * const { snapshot, events } = response.value as LoadResponse<number>;
 * ```
 */
export interface LoadResponse<S = unknown, E = unknown> {
  readonly snapshot: Snapshot<S> | undefined;
  readonly events: readonly RecordedEvent<E>[];
  /** The stream's version when it was read. */
  readonly version: number;
}

/**
 * Options of an {@link EventStoreServer}. An unknown key is an error with a "did you mean".
 *
 * @example
 * ```ts
 * const options: EventStoreServerOptions = { serviceTime: exponential({ mean: 1 }), concurrency: 4 };
 * ```
 */
export interface EventStoreServerOptions {
  /**
   * Time to serve one request (an fsync'd append, an index read): a distribution (ms) or a duration.
   * @default 0.5 ms
   */
  serviceTime?: Distribution | Duration;
  /**
   * Requests served at once. An integer >= 1.
   * @default 1
   */
  concurrency?: number;
}

const SERVER_KEYS = optionKeys<EventStoreServerOptions>()({ serviceTime: true, concurrency: true });

/**
 * An {@link EventStore} on a network node, served over RPC by a {@link Service} (workers, queueing, the
 * node's faults). Each request is applied when its service ends, atomically; the append's commit time is
 * then. It answers {@link EventStoreRequest}s; a malformed request is an `error` response.
 *
 * It records under the node's address: counters `es.appended` (events), `es.appends`, `es.conflicts`,
 * `es.loads`, `es.snapshots`, and the service's `svc.*` metrics.
 *
 * @example
 * ```ts
 * const server = new EventStoreServer(net.addNode('store'), { serviceTime: 0.5 });
 * const client = new RpcEndpoint(net.addNode('app'));
 * client.call('store', { op: 'append', aggregateId: 'a', events: [1], expectedVersion: 0 });
 * ```
 */
export class EventStoreServer<E = unknown, S = unknown> {
  /** The store's data. */
  readonly store = new EventStore<E, S>();
  /** The service answering requests. */
  readonly service: Service;
  private readonly meters: {
    appended: Counter;
    appends: Counter;
    conflicts: Counter;
    loads: Counter;
    snapshots: Counter;
  };

  /**
   * @param node - the node the store runs on (its address names the metrics)
   * @param options - see {@link EventStoreServerOptions}; unknown keys and bad values throw INVALID_ARGUMENT
   */
  constructor(
    readonly node: NetNode<any>,
    options: EventStoreServerOptions = {},
  ) {
    const where = owner('EventStoreServer');
    requireOptions(where, options, SERVER_KEYS);
    const serviceTime = checkDistribution(
      where,
      'serviceTime',
      options.serviceTime,
      'exponential({ mean: 1 })',
      {},
      constant(0.5),
    );
    const concurrency = checkNumber(where, 'concurrency', options.concurrency, { integer: true, min: 1 }, 1);
    const m = node.network.sim.metrics;
    const id = node.address;
    this.meters = {
      appended: m.counter(id, 'es.appended'),
      appends: m.counter(id, 'es.appends'),
      conflicts: m.counter(id, 'es.conflicts'),
      loads: m.counter(id, 'es.loads'),
      snapshots: m.counter(id, 'es.snapshots'),
    };
    this.service = new Service(node, {
      serviceTime,
      concurrency,
      respond: (request) => this.handle(request.payload as EventStoreRequest),
    });
  }

  private handle(request: EventStoreRequest): unknown {
    const where = `event store ${this.node.address}`;
    if (request === null || typeof request !== 'object')
      throw invalidArgument(`${where}: request`, request, 'an EventStoreRequest');
    const now = this.node.network.sim.now;
    switch (request.op) {
      case 'append': {
        const result: AppendResult = this.store.append(
          request.aggregateId,
          request.events as readonly E[],
          request.expectedVersion,
          now,
        );
        if (result.ok) {
          this.meters.appends.inc();
          this.meters.appended.inc(request.events.length);
        } else this.meters.conflicts.inc();
        return result;
      }
      case 'load': {
        this.meters.loads.inc();
        const snapshot =
          request.snapshot === false ? undefined : this.store.latestSnapshot(request.aggregateId);
        const response: LoadResponse<S, E> = {
          snapshot,
          events: this.store.readStream(request.aggregateId, snapshot?.version ?? 0),
          version: this.store.version(request.aggregateId),
        };
        return response;
      }
      case 'read-all':
        return this.store.readAll(request.after, request.max);
      case 'save-snapshot': {
        const saved = this.store.saveSnapshot(request.aggregateId, request.version, request.state as S, now);
        if (saved) this.meters.snapshots.inc();
        return saved;
      }
      default:
        throw invalidArgument(
          `${where}: request.op`,
          (request as { op: unknown }).op,
          '"append", "load", "read-all" or "save-snapshot"',
        );
    }
  }
}
