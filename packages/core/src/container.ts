import { assertNonNegative, DsimError, invalidArgument, showValue } from './errors.js';
import { NORMAL } from './event-queue.js';
import { SimEvent } from './events.js';
import { checkOptions, optionKeys } from './options.js';
import type { Process } from './process.js';
import { FifoQueue, type Queueable } from './resource.js';
import type { Simulation } from './simulation.js';
import { type QueueMeters, queueMeters } from './store.js';

const WAITING = 0;
const DONE = 1;
const WITHDRAWN = 2;
type ClaimStatus = typeof WAITING | typeof DONE | typeof WITHDRAWN;

/** Options for {@link Container}. */
export interface ContainerOptions {
  /**
   * Largest level; `put()` waits while it would overflow. A number > 0, or Infinity.
   * @default Infinity
   */
  capacity?: number;
  /**
   * Starting level, in [0, capacity].
   * @default 0
   */
  init?: number;
  /**
   * Name used in traces and errors. Naming a container also makes it record its metrics in
   * `sim.metrics` under this name: gauges `container.level`, `container.get-queue` and
   * `container.put-queue` (waiting gets and puts) and histograms `container.get-wait` and
   * `container.put-wait` (ms from `get()` / `put()` to being served, one value per served claim). Each
   * named container of a simulation needs its own name.
   * @default 'container' (and no metrics)
   */
  name?: string;
}

const CONTAINER_KEYS = optionKeys<ContainerOptions>()({ capacity: true, init: true, name: true });

/**
 * A pending or completed `container.put(amount)` or `container.get(amount)`: an event that succeeds with the
 * amount once it was added or taken. If the process waiting on it gives up (interrupt, `within()`
 * deadline), a waiting claim is withdrawn; a get completed in that same instant gives its amount back, and a
 * put completed in that instant takes its amount back out if the level still holds it.
 *
 * @example
 * ```ts
 * const r = yield* tank.get(5).within('1s');
 * if (r.timedOut) sim.log('tank too low');
 * ```
 */
export class ContainerClaim extends SimEvent<number> implements Queueable {
  /** The container. */
  readonly container: Container;
  /** `'put'` or `'get'`. */
  readonly kind: 'put' | 'get';
  /** Amount to add or take. */
  readonly amount: number;
  /** The process that made the claim, or null outside a process. */
  readonly owner: Process<any> | null;
  /** @internal */ _queued = false;
  /** @internal */ _status: ClaimStatus = WAITING;
  /** @internal When the claim was made. */
  readonly _at: number;

  /** @internal Created by {@link Container.put} and {@link Container.get}. */
  constructor(container: Container, kind: 'put' | 'get', amount: number) {
    super(container.sim);
    this.container = container;
    this.kind = kind;
    this.amount = amount;
    this.owner = container.sim.activeProcess;
    this._at = container.sim.now;
  }

  override _abandon(): void {
    this.container._abandon(this);
  }

  override _describe(): string {
    return `${this.kind}(${this.amount}) on container '${this.container.name}'`;
  }
}

/**
 * A level of some continuous or countable quantity (fuel, tokens, bytes of buffer, budget): `put(amount)`
 * raises it, waiting while it would exceed `capacity`; `get(amount)` lowers it, waiting while the level is
 * too low. Waiting puts, and waiting gets, are each served strictly in FIFO order: a large get at the head
 * holds back smaller gets behind it, so nothing starves.
 *
 * Amounts are compared exactly (no tolerance): use integers, or fractions exact in binary, when a get must
 * match a sum of puts to the last unit.
 *
 * When a process gives up a get in the very instant it was served (an interrupt, a `within()` deadline), the
 * amount goes back, so `level` may briefly exceed `capacity`; puts wait until there is room again.
 *
 * A container given a `name` records its level, waiting claims and wait times in `sim.metrics` (see
 * {@link ContainerOptions.name}); an unnamed container records nothing.
 *
 * @example
 * ```ts
 * const tokens = new Container(sim, { capacity: 100, init: 100, name: 'tokens' });
 * sim.process(function* () {
 *   yield* tokens.get(10); // waits until 10 tokens are available
 * });
 * sim.schedule('1s', () => tokens.put(10));
 * ```
 */
export class Container {
  /** The simulation this container belongs to. */
  readonly sim: Simulation;
  /** Name used in traces and errors. */
  readonly name: string;
  /** Largest level. */
  readonly capacity: number;
  private _level: number;
  private readonly getters = new FifoQueue<ContainerClaim>();
  private readonly putters = new FifoQueue<ContainerClaim>();
  private readonly meters: QueueMeters | null = null;

  /**
   * @param options - capacity, init, name
   * @default capacity Infinity, init 0, name 'container'
   */
  constructor(sim: Simulation, options: ContainerOptions = {}) {
    checkOptions('Container', options, CONTAINER_KEYS);
    const capacity = options.capacity ?? Infinity;
    if (typeof capacity !== 'number' || !(capacity > 0)) {
      throw invalidArgument('capacity', capacity, 'a number > 0 or Infinity', 'Container');
    }
    const init = options.init ?? 0;
    assertNonNegative('init', init, 'Container');
    if (init > capacity) {
      throw invalidArgument('init', init, `a number in [0, capacity (${capacity})]`, 'Container');
    }
    const name = options.name ?? 'container';
    if (typeof name !== 'string' || name.length === 0)
      throw invalidArgument('name', name, 'a non-empty string', 'Container');
    this.sim = sim;
    this.name = name;
    this.capacity = capacity;
    this._level = init;
    if (options.name !== undefined) {
      this.meters = queueMeters(sim, 'Container', 'container', name, 'level');
      this.meter(this.meters);
    }
  }

  /** Current level. */
  get level(): number {
    return this._level;
  }

  /** Gets waiting for the level to rise. */
  get getQueueLength(): number {
    return this.getters.size;
  }

  /** Puts waiting for room. */
  get putQueueLength(): number {
    return this.putters.size;
  }

  /**
   * Adds `amount` (a finite number > 0, at most `capacity`). The returned event succeeds with the amount
   * once it was added: at once if it fits and no put is waiting, else when gets make room.
   *
   * @example
   * ```ts
   * yield* fuel.put(25);
   * ```
   */
  put(amount: number): ContainerClaim {
    this.checkAmount(amount);
    const put = new ContainerClaim(this, 'put', amount);
    if (this.putters.size === 0 && this._level + amount <= this.capacity) {
      this.add(put);
      this.settle();
    } else {
      this.putters.push(put);
    }
    if (this.meters !== null) this.meter(this.meters);
    return put;
  }

  /**
   * Takes `amount` (a finite number > 0, at most `capacity`). The returned event succeeds with the amount
   * once it was taken: at once if the level allows and no get is waiting, else when puts raise the level.
   *
   * @example
   * ```ts
   * const got = yield* fuel.get(10); // 10
   * ```
   */
  get(amount: number): ContainerClaim {
    this.checkAmount(amount);
    const get = new ContainerClaim(this, 'get', amount);
    if (this.getters.size === 0 && amount <= this._level) {
      this.take(get);
      this.settle();
    } else {
      this.getters.push(get);
    }
    if (this.meters !== null) this.meter(this.meters);
    return get;
  }

  /** @internal The process waiting on `claim` gave up: withdraw it, or undo it if it was just served. */
  _abandon(claim: ContainerClaim): void {
    const status = claim._status;
    if (status === WAITING) {
      (claim.kind === 'put' ? this.putters : this.getters).remove(claim);
      if (this.meters !== null) this.meter(this.meters);
    } else if (status !== DONE) return;
    else if (claim.kind === 'get') this._level += claim.amount;
    else if (this._level >= claim.amount) this._level -= claim.amount;
    else return; // Gets already took part of this put in the same instant: it stands.
    claim._status = WITHDRAWN;
    const sim = this.sim;
    if (sim.tracing) {
      sim.emit('@dsim.container.withdraw', {
        container: this.name,
        process: claim.owner?.name ?? null,
        op: claim.kind,
        amount: claim.amount,
        level: this._level,
      });
    }
    if (status === DONE) {
      this.settle();
      if (this.meters !== null) this.meter(this.meters);
    }
  }

  /** Records the level and the waiting claims (named containers only). */
  private meter(meters: QueueMeters): void {
    meters.level.set(this._level);
    meters.getQueue.set(this.getters.size);
    meters.putQueue.set(this.putters.size);
  }

  /** Serves gets and puts until neither can progress. */
  private settle(): void {
    let progress = true;
    while (progress) {
      progress = false;
      for (
        let get = this.getters.peek();
        get !== undefined && get.amount <= this._level;
        get = this.getters.peek()
      ) {
        this.getters.shift();
        this.take(get);
        progress = true;
      }
      for (
        let put = this.putters.peek();
        put !== undefined && this._level + put.amount <= this.capacity;
        put = this.putters.peek()
      ) {
        this.putters.shift();
        this.add(put);
        progress = true;
      }
    }
  }

  private add(put: ContainerClaim): void {
    this._level += put.amount;
    this.done(put);
  }

  private take(get: ContainerClaim): void {
    this._level -= get.amount;
    this.done(get);
  }

  private done(claim: ContainerClaim): void {
    claim._status = DONE;
    const meters = this.meters;
    if (meters !== null)
      (claim.kind === 'put' ? meters.putWait : meters.getWait).record(this.sim.now - claim._at);
    claim._trigger(true, claim.amount, NORMAL);
    const sim = this.sim;
    if (sim.tracing) {
      sim.emit(claim.kind === 'put' ? '@dsim.container.put' : '@dsim.container.get', {
        container: this.name,
        process: claim.owner?.name ?? null,
        amount: claim.amount,
        level: this._level,
      });
    }
  }

  private checkAmount(amount: number): void {
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount <= 0) {
      throw invalidArgument('amount', amount, 'a finite number > 0', `Container '${this.name}'`);
    }
    if (amount > this.capacity) {
      throw new DsimError(
        'INVALID_ARGUMENT',
        `amount must be at most the capacity (${this.capacity}) of container '${this.name}', got ${showValue(amount)}`,
        {
          simTime: this.sim.now,
          seed: this.sim.seed,
          details: { field: 'amount', value: amount, allowed: `<= ${this.capacity}` },
        },
      );
    }
  }
}
