import {
  checkDistribution,
  checkDuration,
  checkFunction,
  checkName,
  checkNumber,
  checkObject,
  constant,
  type Distribution,
  type Duration,
  invalidOption,
  optionKeys,
  owner,
  type RandomStream,
  type RpcEndpoint,
  type RpcResponse,
  requireOptions,
  type SimEvent,
  type Simulation,
} from '@dsim/core';
import type { AppendResult, ExpectedVersion, RecordedEvent } from './event-store.js';
import type { EventStoreRequest, LoadResponse } from './event-store-server.js';

/**
 * Options of an {@link AggregateRepository}. An unknown key is an error with a "did you mean".
 *
 * @example
 * ```ts
 * const options: AggregateRepositoryOptions<number, { amount: number }> = {
 *   endpoint: new RpcEndpoint(net.addNode('app')),
 *   store: 'store',
 *   initial: 0,
 *   apply: (balance, e) => balance + e.data.amount,
 *   snapshotEvery: 100,
 *   replayCost: 0.02,
 * };
 * ```
 */
export interface AggregateRepositoryOptions<S = number, E = unknown> {
  /** The caller's RPC endpoint. Required. */
  endpoint: RpcEndpoint<any, any>;
  /** Address of the {@link EventStoreServer}. Required. */
  store: string;
  /**
   * State of an aggregate with no events.
   * @default 0
   */
  initial?: S;
  /**
   * Folds one event into the state (the aggregate's "apply"/"when").
   * @default counts the events (state = version)
   */
  apply?: (state: S, event: RecordedEvent<E>) => S;
  /**
   * Save a snapshot each time an append takes the stream past a multiple of this many events (Axon's
   * `EventCountSnapshotTriggerDefinition`); Infinity for none. An integer >= 1, or Infinity.
   * @default Infinity (no snapshots)
   */
  snapshotEvery?: number;
  /**
   * Time to replay one event when loading (deserialise and apply): a distribution (ms) or a duration.
   * @default 0.01 ms
   */
  replayCost?: Distribution | Duration;
  /**
   * Time to load (deserialise) a snapshot, when there is one.
   * @default 0
   */
  snapshotLoadCost?: Distribution | Duration;
  /**
   * Attempts of {@link AggregateRepository.execute}: a conflict reloads the aggregate and tries again. An
   * integer >= 1.
   * @default 3
   */
  maxAttempts?: number;
  /**
   * Timeout of each RPC to the store. A duration > 0, or Infinity.
   * @default 1 s
   */
  timeout?: Duration;
  /**
   * Random stream of the replay costs.
   * @default `<endpoint address>/replay`
   */
  stream?: string;
}

const REPOSITORY_KEYS = optionKeys<AggregateRepositoryOptions>()({
  endpoint: true,
  store: true,
  initial: true,
  apply: true,
  snapshotEvery: true,
  replayCost: true,
  snapshotLoadCost: true,
  maxAttempts: true,
  timeout: true,
  stream: true,
});

/**
 * A rebuilt aggregate, or why it could not be loaded.
 *
 * @example
 * ```ts
 * const r: LoadedAggregate<number> = yield* repo.load('acct-1');
 * if (r.ok) sim.log(`replayed ${r.replayed} events in ${r.ms} ms`);
 * ```
 */
export type LoadedAggregate<S> =
  | {
      readonly ok: true;
      readonly state: S;
      readonly version: number;
      /** Events replayed (those after the snapshot). */
      readonly replayed: number;
      /** Version of the snapshot it started from, 0 for none. */
      readonly snapshotVersion: number;
      /** Time the load took: the RPC plus snapshot load plus replay (ms). */
      readonly ms: number;
    }
  | { readonly ok: false; readonly error: string; readonly ms: number };

/**
 * Outcome of a command ({@link AggregateRepository.execute}).
 *
 * @example
 * ```ts
 * const r: CommandResult = yield* repo.execute('acct-1', () => [{ amount: 5 }]);
 * if (r.ok) readModelQuery(r.version);
 * ```
 */
export type CommandResult =
  | {
      readonly ok: true;
      /** The stream's version after the append. */
      readonly version: number;
      /** Global position of the last event appended. */
      readonly position: number;
      /** Commit time at the store (ms). */
      readonly appendedAt: number;
      readonly attempts: number;
      /** Conflicts met (and retried) on the way. */
      readonly conflicts: number;
      /** From the call to the append's answer (ms). */
      readonly ms: number;
    }
  | {
      readonly ok: false;
      /** `conflict` when every attempt met one; otherwise the RPC error kind. */
      readonly error: string;
      readonly attempts: number;
      readonly conflicts: number;
      readonly ms: number;
    };

/**
 * Counters of an {@link AggregateRepository}.
 *
 * @example
 * ```ts
 * const { conflicts, replayed } = repo.stats;
 * ```
 */
export interface AggregateRepositoryStats {
  readonly loads: number;
  /** Events replayed over all loads. */
  readonly replayed: number;
  readonly commands: number;
  readonly committed: number;
  /** Conflicts met (each one reloaded and retried, until `maxAttempts`). */
  readonly conflicts: number;
  readonly snapshotsSaved: number;
}

/**
 * The command side of event sourcing, over RPC to an {@link EventStoreServer}: `load` rebuilds an
 * aggregate (latest snapshot, then replay of the events after it, each costing `replayCost`), `append`
 * writes events with an expected version, and `execute` runs a command: load, decide the new events from
 * the state, append with the loaded version as expected version, and on a conflict reload and retry (up to
 * `maxAttempts`). When an append passes a multiple of `snapshotEvery`, it saves a snapshot of the new state
 * (fire and forget). Nothing is cached between commands: every command replays, as a stateless service
 * does.
 *
 * Replay time is N × replayCost without snapshots and (N mod S) × replayCost + snapshotLoadCost with a
 * snapshot every S events (plus the round trip in both).
 *
 * @example
 * ```ts
 * const repo = new AggregateRepository(sim, { endpoint: new RpcEndpoint(net.addNode('app')), store: 'store', snapshotEvery: 50 });
 * sim.process(function* () {
 *   const r = yield* repo.execute('acct-1', (state) => [{ n: state + 1 }]);
 *   const loaded = yield* repo.load('acct-1'); // from the snapshot, if any
 * });
 * ```
 */
export class AggregateRepository<S = number, E = unknown> {
  /** The simulation. */
  readonly sim: Simulation;
  /** Snapshot period (events), Infinity for none. */
  readonly snapshotEvery: number;
  private readonly endpoint: RpcEndpoint<any, any>;
  private readonly store: string;
  private readonly initial: S;
  private readonly applyEvent: (state: S, event: RecordedEvent<E>) => S;
  private readonly replayCost: Distribution;
  private readonly snapshotLoadCost: Distribution;
  private readonly maxAttempts: number;
  private readonly timeout: number;
  private readonly rng: RandomStream;
  private counts = { loads: 0, replayed: 0, commands: 0, committed: 0, conflicts: 0, snapshotsSaved: 0 };

  /**
   * @param options - see {@link AggregateRepositoryOptions}; unknown keys and bad values throw INVALID_ARGUMENT
   */
  constructor(sim: Simulation, options: AggregateRepositoryOptions<S, E>) {
    const where = owner('AggregateRepository');
    requireOptions(where, options, REPOSITORY_KEYS);
    this.sim = sim;
    checkObject(where, 'endpoint', options.endpoint, 'an RpcEndpoint');
    if (typeof (options.endpoint as { call?: unknown }).call !== 'function')
      throw invalidOption(where, 'endpoint', options.endpoint, 'an RpcEndpoint');
    this.endpoint = options.endpoint;
    this.store = checkName(where, 'store', options.store);
    this.initial = (options.initial ?? 0) as S;
    this.applyEvent =
      options.apply === undefined
        ? (((_state: S, event: RecordedEvent<E>) => event.version) as unknown as (
            s: S,
            e: RecordedEvent<E>,
          ) => S)
        : checkFunction(where, 'apply', options.apply, '(state, event) => state');
    this.snapshotEvery = checkNumber(
      where,
      'snapshotEvery',
      options.snapshotEvery,
      { integer: true, min: 1, infinity: true },
      Infinity,
    );
    this.replayCost = checkDistribution(
      where,
      'replayCost',
      options.replayCost,
      'constant(0.01)',
      {},
      constant(0.01),
    );
    this.snapshotLoadCost = checkDistribution(
      where,
      'snapshotLoadCost',
      options.snapshotLoadCost,
      'constant(0.5)',
      {},
      constant(0),
    );
    this.maxAttempts = checkNumber(where, 'maxAttempts', options.maxAttempts, { integer: true, min: 1 }, 3);
    this.timeout = checkDuration(where, 'timeout', options.timeout, { positive: true, infinity: true }, 1000);
    this.rng = sim.rng(checkName(where, 'stream', options.stream, `${options.endpoint.node.address}/replay`));
  }

  /** Counters. */
  get stats(): AggregateRepositoryStats {
    return { ...this.counts };
  }

  /**
   * Rebuilds an aggregate: asks the store for the latest snapshot (unless `snapshot: false`) and the
   * events after it, then loads the snapshot and replays the events, taking their cost in time.
   *
   * @param options - `snapshot: false` ignores snapshots (a full replay) @default { snapshot: true }
   * @example
   * ```ts
   * const full = yield* repo.load('acct-1', { snapshot: false });
   * ```
   */
  load(aggregateId: string, options: { snapshot?: boolean } = {}): SimEvent<LoadedAggregate<S>> {
    const self = this;
    return this.sim.process(function* () {
      return yield* self.loadBody(aggregateId, options.snapshot !== false);
    }, `load ${aggregateId}`);
  }

  /**
   * Appends events to a stream expecting it at `expectedVersion`: the store's {@link AppendResult} (a
   * conflict is a value), or the RPC's failure.
   *
   * @example
   * ```ts
   * const r = yield* repo.append('acct-1', [{ amount: 5 }], 0);
   * ```
   */
  append(
    aggregateId: string,
    events: readonly E[],
    expectedVersion: ExpectedVersion,
  ): SimEvent<RpcResponse<AppendResult>> {
    const request: EventStoreRequest = { op: 'append', aggregateId, events, expectedVersion };
    return this.endpoint.call<AppendResult>(this.store, request, { timeout: this.timeout });
  }

  /**
   * Runs a command: load, `decide(state, version)` the events to append (none: nothing is written), append
   * expecting the loaded version; a conflict reloads and decides again, up to `maxAttempts`.
   *
   * @example
   * ```ts
   * const r = yield* repo.execute('acct-1', (balance) => (balance >= 5 ? [{ amount: -5 }] : []));
   * ```
   */
  execute(aggregateId: string, decide: (state: S, version: number) => readonly E[]): SimEvent<CommandResult> {
    const self = this;
    return this.sim.process(function* () {
      return yield* self.executeBody(aggregateId, decide);
    }, `command ${aggregateId}`);
  }

  private *loadBody(
    aggregateId: string,
    useSnapshot: boolean,
  ): Generator<SimEvent<any>, LoadedAggregate<S>, any> {
    const started = this.sim.now;
    this.counts.loads++;
    const request: EventStoreRequest = { op: 'load', aggregateId, snapshot: useSnapshot };
    const res: RpcResponse<LoadResponse<S, E>> = yield this.endpoint.call(this.store, request, {
      timeout: this.timeout,
    });
    if (!res.ok) return { ok: false, error: res.error.kind, ms: this.sim.now - started };
    const { snapshot, events } = res.value;
    let cost = snapshot === undefined ? 0 : this.snapshotLoadCost.sample(this.rng);
    let state = snapshot === undefined ? this.initial : snapshot.state;
    for (const event of events) {
      cost += this.replayCost.sample(this.rng);
      state = this.applyEvent(state, event);
    }
    if (cost > 0) yield this.sim.timeout(cost);
    this.counts.replayed += events.length;
    const version = events.length > 0 ? events[events.length - 1]!.version : (snapshot?.version ?? 0);
    return {
      ok: true,
      state,
      version,
      replayed: events.length,
      snapshotVersion: snapshot?.version ?? 0,
      ms: this.sim.now - started,
    };
  }

  private *executeBody(
    aggregateId: string,
    decide: (state: S, version: number) => readonly E[],
  ): Generator<SimEvent<any>, CommandResult, any> {
    const started = this.sim.now;
    this.counts.commands++;
    let conflicts = 0;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const loaded: LoadedAggregate<S> = yield* this.loadBody(aggregateId, true);
      if (!loaded.ok)
        return { ok: false, error: loaded.error, attempts: attempt, conflicts, ms: this.sim.now - started };
      const events = decide(loaded.state, loaded.version);
      if (events.length === 0)
        return {
          ok: true,
          version: loaded.version,
          position: 0,
          appendedAt: this.sim.now,
          attempts: attempt,
          conflicts,
          ms: this.sim.now - started,
        };
      const res: RpcResponse<AppendResult> = yield this.append(aggregateId, events, loaded.version);
      if (!res.ok)
        return { ok: false, error: res.error.kind, attempts: attempt, conflicts, ms: this.sim.now - started };
      const result = res.value;
      if (!result.ok) {
        conflicts++;
        this.counts.conflicts++;
        continue;
      }
      this.counts.committed++;
      this.maybeSnapshot(aggregateId, loaded.state, loaded.version, events, result);
      return {
        ok: true,
        version: result.version,
        position: result.position,
        appendedAt: result.appendedAt,
        attempts: attempt,
        conflicts,
        ms: this.sim.now - started,
      };
    }
    return {
      ok: false,
      error: 'conflict',
      attempts: this.maxAttempts,
      conflicts,
      ms: this.sim.now - started,
    };
  }

  // Saves a snapshot (fire and forget) when the append took the stream past a multiple of snapshotEvery.
  private maybeSnapshot(
    aggregateId: string,
    state: S,
    before: number,
    events: readonly E[],
    result: Extract<AppendResult, { ok: true }>,
  ): void {
    const every = this.snapshotEvery;
    if (every === Infinity || Math.floor(result.version / every) === Math.floor(before / every)) return;
    let next = state;
    const first = result.position - events.length + 1;
    events.forEach((data, i) => {
      next = this.applyEvent(next, {
        aggregateId,
        version: before + i + 1,
        position: first + i,
        data,
        appendedAt: result.appendedAt,
      });
    });
    this.counts.snapshotsSaved++;
    const request: EventStoreRequest = {
      op: 'save-snapshot',
      aggregateId,
      version: result.version,
      state: next,
    };
    this.endpoint.call(this.store, request, { timeout: this.timeout });
  }
}
