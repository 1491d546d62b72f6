import { DsimError } from './errors.js';
import { EventKind, NORMAL, URGENT } from './event-queue.js';
import { isSimEvent, PENDING, PROCESSED, SimEvent, type Waiter } from './events.js';
import type { Simulation } from './simulation.js';

/**
 * The generator a process runs. It yields events (waits) and may return a value, which becomes the
 * value of the {@link Process} event, so other processes can join it.
 */
export type ProcessGenerator<R = unknown> = Generator<SimEvent<any>, R, any>;

/** What `sim.process()` accepts: a generator function (called with no arguments) or a generator. */
export type ProcessBody<R> = (() => ProcessGenerator<R>) | ProcessGenerator<R>;

/**
 * Thrown into a process at its current `yield` when another process or callback calls
 * `process.interrupt(cause)`. `err.cause` is the cause passed to `interrupt`.
 *
 * @example
 * ```ts
 * try {
 *   yield sim.timeout('1h');
 * } catch (err) {
 *   if (err instanceof Interrupt) sim.log(`woken early: ${String(err.cause)}`);
 *   else throw err;
 * }
 * ```
 */
export class Interrupt extends DsimError {
  constructor(cause: unknown, processName: string) {
    super('INTERRUPTED', `process '${processName}' was interrupted`, { cause });
  }
}

function startProcess(proc: Process<any>): void {
  proc._resume(true, undefined);
}

function deliverInterrupt(arg: { proc: Process<any>; cause: unknown }): void {
  const proc = arg.proc;
  if (proc._state !== PENDING) return;
  const target = proc._target;
  if (target !== null) {
    target._removeWaiter(proc);
    target._abandon();
    proc._target = null;
  }
  if (proc.sim.tracing) {
    proc.sim.emit('@dsim.process.interrupt', { process: proc.name, id: proc.id, cause: String(arg.cause) });
  }
  proc._resume(false, new Interrupt(arg.cause, proc.name));
}

/**
 * A running generator function. A process is itself an event: it succeeds with the generator's return
 * value, or fails with what it threw, so `const r = yield* proc` joins it and gets its result.
 *
 * Processes start at the current time, before ordinary events scheduled for the same instant.
 *
 * @example
 * ```ts
 * const worker = sim.process(function* () {
 *   yield sim.timeout(5);
 *   return 42;
 * }, 'worker');
 * sim.process(function* () {
 *   const answer = yield* worker; // number
 * });
 * ```
 */
export class Process<R = unknown> extends SimEvent<R> implements Waiter {
  /** Name used in traces and errors. */
  readonly name: string;
  /** Unique id within the simulation (1, 2, ...). */
  readonly id: number;
  /** @internal */ _target: SimEvent<any> | null = null;
  private readonly gen: ProcessGenerator<R>;
  // The generator's next and throw, read once: each generator function has its own prototype, so with
  // many process bodies (one closure per process) reading `gen.next` at every resume is a megamorphic load.
  private readonly genNext: ProcessGenerator<R>['next'];
  private readonly genThrow: ProcessGenerator<R>['throw'];

  constructor(sim: Simulation, gen: ProcessGenerator<R>, name: string, id: number) {
    super(sim);
    this.gen = gen;
    this.genNext = gen.next;
    this.genThrow = gen.throw;
    this.name = name;
    this.id = id;
    sim._push(sim.now, URGENT, startProcess, this, EventKind.processStart, id);
  }

  /** A process finishes by returning from (or throwing in) its generator; it cannot be settled from outside. */
  override succeed(_value: R): this {
    throw new DsimError(
      'INVALID_STATE',
      `cannot succeed process '${this.name}' from outside; it finishes when its generator returns`,
    );
  }

  /** Use `interrupt(cause)` to disturb a process; it cannot be failed from outside. */
  override fail(_error: unknown): this {
    throw new DsimError(
      'INVALID_STATE',
      `cannot fail process '${this.name}' from outside; use interrupt(cause)`,
    );
  }

  /** @internal The event this process waits on was processed: resume. */
  _wake(event: SimEvent<any>): void {
    this._target = null;
    this._resume(event._ok, event._value);
  }

  /** True until the generator returns or throws. */
  get isAlive(): boolean {
    return this._state === PENDING;
  }

  /** The event the process is waiting for, or null when it is not waiting. */
  get waitingFor(): SimEvent<any> | null {
    return this._target;
  }

  /**
   * Throws an {@link Interrupt} into the process at its current `yield`, at the current time, before
   * ordinary events. If the process was waiting on a claim (a resource request, a store get or put),
   * the claim is withdrawn. Interrupting a finished process, or a process interrupting itself, is an error.
   */
  interrupt(cause?: unknown): void {
    if (this._state !== PENDING) {
      throw new DsimError(
        'INVALID_STATE',
        `cannot interrupt process '${this.name}': it has already finished`,
        {
          simTime: this.sim.now,
          seed: this.sim.seed,
        },
      );
    }
    if (this.sim.activeProcess === this) {
      throw new DsimError('INVALID_STATE', `process '${this.name}' cannot interrupt itself`, {
        simTime: this.sim.now,
        seed: this.sim.seed,
      });
    }
    this.sim._push(
      this.sim.now,
      URGENT,
      deliverInterrupt,
      { proc: this, cause },
      EventKind.interrupt,
      this.id,
    );
  }

  /** @internal Runs the generator until it waits on an unprocessed event, returns or throws. */
  _resume(ok: boolean, value: unknown): void {
    const sim = this.sim;
    const previous = sim.activeProcess;
    sim.activeProcess = this;
    const gen = this.gen;
    for (;;) {
      let step: IteratorResult<SimEvent<any>, R>;
      try {
        step = ok ? this.genNext.call(gen, value) : this.genThrow.call(gen, value);
      } catch (error) {
        sim.activeProcess = previous;
        if (sim.tracing)
          sim.emit('@dsim.process.fail', { process: this.name, id: this.id, error: errorMessage(error) });
        this._trigger(false, error, NORMAL);
        return;
      }
      if (step.done) {
        sim.activeProcess = previous;
        if (sim.tracing) sim.emit('@dsim.process.end', { process: this.name, id: this.id });
        this._trigger(true, step.value, NORMAL);
        return;
      }
      const target = step.value;
      if (!isSimEvent(target)) {
        ok = false;
        value = new DsimError(
          'INVALID_YIELD',
          `process '${this.name}' yielded ${describeYield(target)}; a process may only yield waits such as sim.timeout(), an event, a process, a resource request or sim.allOf()/anyOf() (use yield* for typed results)`,
          { simTime: sim.now, seed: sim.seed },
        );
        continue;
      }
      if (target.sim !== sim) {
        ok = false;
        value = new DsimError(
          'INVALID_YIELD',
          `process '${this.name}' yielded an event of another simulation`,
          {
            simTime: sim.now,
            seed: sim.seed,
          },
        );
        continue;
      }
      if (target._state === PROCESSED) {
        ok = target._ok;
        value = target._value;
        continue;
      }
      this._target = target;
      target._addWaiter(this);
      sim.activeProcess = previous;
      return;
    }
  }

  override _describe(): string {
    return `process '${this.name}'`;
  }
}

function describeYield(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'number') return `the number ${value} (did you mean sim.timeout(${value})?)`;
  if (typeof value === 'object')
    return `an object of type ${(value as object).constructor?.name ?? 'Object'}`;
  return `a ${typeof value}`;
}

/** @internal */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
