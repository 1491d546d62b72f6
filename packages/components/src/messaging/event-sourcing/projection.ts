import {
  checkDistribution,
  checkDuration,
  checkName,
  checkNumber,
  checkObject,
  constant,
  type Distribution,
  type Duration,
  invalidOption,
  optionKeys,
  owner,
  type Process,
  type RandomStream,
  type RpcEndpoint,
  type RpcResponse,
  requireOptions,
  type Simulation,
} from '@dsim/core';
import type { RecordedEvent } from './event-store.js';
import type { EventStoreRequest } from './event-store-server.js';
import type { ReadModelRequest } from './read-model.js';

/**
 * Options of a {@link Projection}. An unknown key is an error with a "did you mean".
 *
 * @example
 * ```ts
 * const options: ProjectionOptions = {
 *   endpoint: new RpcEndpoint(net.addNode('projector')),
 *   store: 'store',
 *   readModel: 'read-model',
 *   pollInterval: '100ms',
 *   until: '1m',
 * };
 * ```
 */
export interface ProjectionOptions {
  /** The projection's own RPC endpoint. Required. */
  endpoint: RpcEndpoint<any, any>;
  /** Address of the {@link EventStoreServer}. Required. */
  store: string;
  /** Address of the {@link ReadModelServer}. Required. */
  readModel: string;
  /**
   * Time between the starts of two polls (fixed rate; a poll that runs longer delays the next, never
   * overlaps it). A duration > 0.
   * @default 100 ms
   */
  pollInterval?: Duration;
  /**
   * Most events read per request; a full batch is followed at once by another read (catching up). An
   * integer >= 1.
   * @default 500
   */
  batchSize?: number;
  /**
   * Time to process one event before the batch is written to the read model: a distribution (ms) or a
   * duration.
   * @default 0
   */
  processingTime?: Distribution | Duration;
  /**
   * Timeout of each RPC. A failed read or update is retried at the next poll, from the same checkpoint.
   * A duration > 0, or Infinity.
   * @default 1 s
   */
  timeout?: Duration;
  /**
   * Absolute time of the first poll. A time >= now.
   * @default now
   */
  start?: Duration;
  /**
   * Absolute time after which no poll starts (so that a run can end). A duration, or Infinity.
   * @default Infinity
   */
  until?: Duration;
  /**
   * Random stream of the processing times.
   * @default `<endpoint address>/projection`
   */
  stream?: string;
}

const PROJECTION_KEYS = optionKeys<ProjectionOptions>()({
  endpoint: true,
  store: true,
  readModel: true,
  pollInterval: true,
  batchSize: true,
  processingTime: true,
  timeout: true,
  start: true,
  until: true,
  stream: true,
});

/**
 * Counters of a {@link Projection}.
 *
 * @example
 * ```ts
 * const { checkpoint, polls } = projection.stats;
 * ```
 */
export interface ProjectionStats {
  /** Polls started (each may read several batches). */
  readonly polls: number;
  /** Read requests that returned no event. */
  readonly emptyReads: number;
  /** Events processed and written to the read model. */
  readonly events: number;
  /** Global position of the last event written to the read model. */
  readonly checkpoint: number;
  /** Reads or updates that failed (retried at the next poll). */
  readonly failures: number;
}

/**
 * A catch-up subscription that keeps a read model up to date: every `pollInterval` it reads the store's
 * global log after its checkpoint (in batches of `batchSize`, until it has caught up), processes each
 * event (`processingTime`), writes the batch to the read model and advances its checkpoint. This is the
 * polling projection of Marten's async daemon and of EventStoreDB's catch-up subscriptions without a push
 * channel; the checkpoint is kept by the projection and the read model skips events it already has.
 *
 * With polling interval T and negligible processing, an event committed at a uniform moment waits
 * U[0, T] for the next read, so its staleness is about uniform on [0, T] plus the fixed costs (read
 * request, response, update: about 3 one-way latencies and the service times): mean ≈ T/2 + fixed.
 *
 * @example
 * ```ts
 * const projection = new Projection(sim, {
 *   endpoint: new RpcEndpoint(net.addNode('projector')),
 *   store: 'store',
 *   readModel: 'read-model',
 *   pollInterval: 250,
 *   until: '10m',
 * });
 * ```
 */
export class Projection {
  /** The simulation. */
  readonly sim: Simulation;
  /** Poll interval (ms). */
  readonly pollInterval: number;
  /** Events per read. */
  readonly batchSize: number;
  /** The polling process. */
  readonly process: Process<void>;
  private readonly endpoint: RpcEndpoint<any, any>;
  private readonly store: string;
  private readonly readModel: string;
  private readonly processingTime: Distribution;
  private readonly timeout: number;
  private readonly until: number;
  private readonly rng: RandomStream;
  private counts = { polls: 0, emptyReads: 0, events: 0, checkpoint: 0, failures: 0 };

  /**
   * @param options - see {@link ProjectionOptions}; unknown keys and bad values throw INVALID_ARGUMENT
   */
  constructor(sim: Simulation, options: ProjectionOptions) {
    const where = owner('Projection');
    requireOptions(where, options, PROJECTION_KEYS);
    this.sim = sim;
    checkObject(where, 'endpoint', options.endpoint, 'an RpcEndpoint');
    if (typeof (options.endpoint as { call?: unknown }).call !== 'function')
      throw invalidOption(where, 'endpoint', options.endpoint, 'an RpcEndpoint');
    this.endpoint = options.endpoint;
    this.store = checkName(where, 'store', options.store);
    this.readModel = checkName(where, 'readModel', options.readModel);
    this.pollInterval = checkDuration(where, 'pollInterval', options.pollInterval, { positive: true }, 100);
    this.batchSize = checkNumber(where, 'batchSize', options.batchSize, { integer: true, min: 1 }, 500);
    this.processingTime = checkDistribution(
      where,
      'processingTime',
      options.processingTime,
      'constant(0.05)',
      {},
      constant(0),
    );
    this.timeout = checkDuration(where, 'timeout', options.timeout, { positive: true, infinity: true }, 1000);
    this.until = checkDuration(where, 'until', options.until, { infinity: true }, Infinity);
    const start = checkDuration(where, 'start', options.start, {}, sim.now);
    if (start < sim.now) throw invalidOption(where, 'start', options.start, `a time >= now (${sim.now} ms)`);
    this.rng = sim.rng(
      checkName(where, 'stream', options.stream, `${options.endpoint.node.address}/projection`),
    );
    const self = this;
    this.process = sim.process(function* () {
      let next = start;
      while (next < self.until) {
        if (sim.now < next) yield sim.timeout(next - sim.now);
        const began = sim.now;
        self.counts.polls++;
        yield* self.poll();
        next = Math.max(began + self.pollInterval, sim.now);
      }
    }, `projection ${options.endpoint.node.address}`);
  }

  /** Counters. */
  get stats(): ProjectionStats {
    return { ...this.counts };
  }

  // Reads and applies batches until one comes back short (caught up) or a request fails.
  private *poll(): Generator<any, void, any> {
    for (;;) {
      const read: EventStoreRequest = { op: 'read-all', after: this.counts.checkpoint, max: this.batchSize };
      const res: RpcResponse<readonly RecordedEvent[]> = yield this.endpoint.call(this.store, read, {
        timeout: this.timeout,
      });
      if (!res.ok) {
        this.counts.failures++;
        return;
      }
      const events = res.value;
      if (events.length === 0) {
        this.counts.emptyReads++;
        return;
      }
      let cost = 0;
      for (let i = 0; i < events.length; i++) cost += this.processingTime.sample(this.rng);
      if (cost > 0) yield this.sim.timeout(cost);
      const update: ReadModelRequest = { op: 'apply', events };
      const ack: RpcResponse<number> = yield this.endpoint.call(this.readModel, update, {
        timeout: this.timeout,
      });
      if (!ack.ok) {
        this.counts.failures++;
        return;
      }
      this.counts.events += events.length;
      this.counts.checkpoint = events[events.length - 1]!.position;
      if (events.length < this.batchSize) return;
    }
  }
}
