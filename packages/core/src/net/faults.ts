import { type Duration, toMs } from '../duration.js';
import { assertBoolean, assertFinite, DsimError, invalidArgument, showValue } from '../errors.js';
import { URGENT } from '../event-queue.js';
import { checkKind, checkOptions, optionKeys } from '../options.js';
import type { Distribution } from '../random/distribution.js';
import { DEFAULT_LINK, type LinkConfig, type LinkOptions, resolveLink } from './link.js';
import type { Network } from './network.js';

/** A fault, named as the domain names it. With a duration, each is undone when the duration ends. */
export type Fault =
  /** Crash a node; undone by a restart (with `keepState`, the restart keeps in-memory state). */
  | { kind: 'crash'; node: string; keepState?: boolean }
  /** Stop the world on a node (GC pause); undone by resume. */
  | { kind: 'pause'; node: string }
  /** Cut traffic between two groups (one way with `oneWay`); undone by healing this partition only. */
  | { kind: 'partition'; a: string | readonly string[]; b: string | readonly string[]; oneWay?: boolean }
  /** Cut a node off from all others. */
  | { kind: 'isolate'; node: string }
  /** Change link latency between two nodes (both ways unless `oneWay`); undone by restoring the previous settings. */
  | { kind: 'latency'; a: string; b: string; latency: Distribution | Duration; oneWay?: boolean }
  /** Change link loss between two nodes (both ways unless `oneWay`). */
  | { kind: 'loss'; a: string; b: string; loss: number; oneWay?: boolean }
  /** Change any link settings between two nodes (both ways unless `oneWay`). */
  | { kind: 'link'; a: string; b: string; options: LinkOptions; oneWay?: boolean }
  /** Reduce a node's capacity factor to `factor` in (0, 1]; undone by restoring the previous factor. */
  | { kind: 'degrade'; node: string; factor: number }
  /** Jump a node's clock by `ms`; undone by jumping back. */
  | { kind: 'skew'; node: string; ms: number }
  /** Make a node's clock drift at `rate`; undone by restoring the previous rate. */
  | { kind: 'drift'; node: string; rate: number };

/** One entry of a fault schedule: at `at`, apply `fault`; with `for`, undo it `for` later. */
export interface ScheduledFault {
  /** Absolute simulated time. */
  at: Duration;
  /** How long the fault lasts. @default forever */
  for?: Duration;
  fault: Fault;
}

type FaultOf<K extends Fault['kind']> = Extract<Fault, { kind: K }>;

// Each kind's keys, checked against its type: adding a field to a fault without listing it does not compile.
const FAULT_KEYS: Readonly<Record<Fault['kind'], readonly string[]>> = {
  crash: optionKeys<FaultOf<'crash'>>()({ kind: true, node: true, keepState: true }),
  pause: optionKeys<FaultOf<'pause'>>()({ kind: true, node: true }),
  partition: optionKeys<FaultOf<'partition'>>()({ kind: true, a: true, b: true, oneWay: true }),
  isolate: optionKeys<FaultOf<'isolate'>>()({ kind: true, node: true }),
  latency: optionKeys<FaultOf<'latency'>>()({ kind: true, a: true, b: true, latency: true, oneWay: true }),
  loss: optionKeys<FaultOf<'loss'>>()({ kind: true, a: true, b: true, loss: true, oneWay: true }),
  link: optionKeys<FaultOf<'link'>>()({ kind: true, a: true, b: true, options: true, oneWay: true }),
  degrade: optionKeys<FaultOf<'degrade'>>()({ kind: true, node: true, factor: true }),
  skew: optionKeys<FaultOf<'skew'>>()({ kind: true, node: true, ms: true }),
  drift: optionKeys<FaultOf<'drift'>>()({ kind: true, node: true, rate: true }),
};

const ENTRY_KEYS = optionKeys<ScheduledFault>()({ at: true, for: true, fault: true });

/**
 * Declares a fault schedule up front. Every entry is validated before anything is scheduled: a bad entry
 * names its index and field (`faults[2].fault.node`), an unknown key gets a "did you mean". Faults
 * apply at their time before ordinary events of the same instant, in the order given when times tie;
 * each start and end is a `@dsim.fault` trace record.
 *
 * @example
 * ```ts
 * scheduleFaults(net, [
 *   { at: '10s', for: '30s', fault: { kind: 'partition', a: ['n1'], b: ['n2', 'n3'] } },
 *   { at: '20s', for: '5s', fault: { kind: 'pause', node: 'n2' } },
 *   { at: '1m', fault: { kind: 'crash', node: 'n3' } },
 * ]);
 * ```
 */
export function scheduleFaults(net: Network, schedule: readonly ScheduledFault[]): void {
  const component = 'scheduleFaults';
  if (!Array.isArray(schedule))
    throw invalidArgument('faults', schedule, 'an array of { at, for?, fault }', component);
  const sim = net.sim;
  const planned = schedule.map((entry, i) => {
    const where = `faults[${i}]`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
      throw invalidArgument(where, entry, 'an object { at, for?, fault }', component);
    checkOptions(component, entry, ENTRY_KEYS, where);
    if (entry.at === undefined)
      throw invalidArgument(`${where}.at`, entry.at, 'a time such as "10s"', component);
    const at = toMs(entry.at, `${component}: ${where}.at`);
    if (at < sim.now) {
      throw invalidArgument(`${where}.at`, entry.at, `a time >= now (${sim.now} ms)`, component);
    }
    const duration = entry.for === undefined ? undefined : toMs(entry.for, `${component}: ${where}.for`);
    validateFault(net, entry.fault, `${where}.fault`, component);
    return { at, duration, fault: entry.fault };
  });
  for (const { at, duration, fault } of planned) {
    sim.scheduleAt(
      at,
      () => {
        const undo = apply(net, fault);
        if (duration !== undefined) sim.schedule(duration, undo, { priority: URGENT });
      },
      { priority: URGENT },
    );
  }
}

/**
 * Applies a fault now; returns what undoes it (restoring the previous settings, not the defaults). The
 * fault is validated as in {@link scheduleFaults} (field paths start at `fault`).
 *
 * @example
 * ```ts
 * const heal = applyFault(net, { kind: 'partition', a: 'n1', b: 'n2' });
 * sim.schedule('5s', heal);
 * ```
 */
export function applyFault(net: Network, fault: Fault): () => void {
  validateFault(net, fault, 'fault', 'applyFault');
  return apply(net, fault);
}

/** Applies a validated fault. */
function apply(net: Network, fault: Fault): () => void {
  switch (fault.kind) {
    case 'crash':
      net.crash(fault.node);
      return () => net.restart(fault.node, { keepState: fault.keepState ?? false });
    case 'pause':
      net.pause(fault.node);
      return () => net.resume(fault.node);
    case 'partition': {
      const handle = net.partition(fault.a, fault.b, { oneWay: fault.oneWay ?? false });
      return () => handle.heal();
    }
    case 'isolate': {
      const handle = net.isolate(fault.node);
      return () => handle.heal();
    }
    case 'latency':
      return changeLink(net, fault.kind, fault.a, fault.b, { latency: fault.latency }, fault.oneWay ?? false);
    case 'loss':
      return changeLink(net, fault.kind, fault.a, fault.b, { loss: fault.loss }, fault.oneWay ?? false);
    case 'link':
      return changeLink(net, fault.kind, fault.a, fault.b, fault.options, fault.oneWay ?? false);
    case 'degrade': {
      const previous = net.node(fault.node).capacity;
      net.degrade(fault.node, fault.factor);
      return () => net.degrade(fault.node, previous);
    }
    case 'skew':
      net.skew(fault.node, fault.ms);
      return () => net.skew(fault.node, -fault.ms);
    case 'drift': {
      const previous = net.node(fault.node).clock.driftRate;
      net.drift(fault.node, fault.rate);
      return () => net.drift(fault.node, previous);
    }
  }
}

function changeLink(
  net: Network,
  kind: 'latency' | 'loss' | 'link',
  a: string,
  b: string,
  options: LinkOptions,
  oneWay: boolean,
): () => void {
  const log = net.sim.faultLog;
  log.push({ t: net.sim.now, fault: kind, fields: { a, b, oneWay } });
  const pairs: Array<[string, string]> = oneWay
    ? [[a, b]]
    : [
        [a, b],
        [b, a],
      ];
  const saved: Array<[string, string, LinkConfig | null]> = pairs.map(([x, y]) => [
    x,
    y,
    net._linkSettings(x, y),
  ]);
  net.setLink(a, b, options, { bidirectional: !oneWay });
  return () => {
    for (const [x, y, own] of saved) net._restoreLink(x, y, own);
    log.push({ t: net.sim.now, fault: 'link-restore', fields: { a, b, oneWay } });
  };
}

/** Checks a fault's kind, keys and values; errors name `component` and the field under `where`. */
function validateFault(net: Network, fault: Fault, where: string, component: string): void {
  const kind = checkKind(component, where, fault, FAULT_KEYS) as Fault['kind'];
  const known = new Set(net.addresses);
  const address = (field: string, value: unknown): void => {
    if (typeof value !== 'string' || !known.has(value)) {
      throw new DsimError(
        'INVALID_ARGUMENT',
        `${component}: ${where}.${field} must be one of the network's nodes (${[...known].join(', ')}), got ${showValue(value)}`,
        { details: { component, field: `${where}.${field}`, value, allowed: [...known] } },
      );
    }
  };
  const flag = (field: string, value: unknown): void => {
    if (value !== undefined) assertBoolean(`${where}.${field}`, value, component);
  };
  const group = (field: string, value: unknown): void => {
    if (typeof value === 'string') {
      address(field, value);
      return;
    }
    if (!Array.isArray(value) || value.length === 0) {
      throw invalidArgument(
        `${where}.${field}`,
        value,
        'a node address or a non-empty array of addresses',
        component,
      );
    }
    for (let i = 0; i < value.length; i++) address(`${field}[${i}]`, value[i]);
  };
  const f = fault as FaultOf<typeof kind>;
  switch (f.kind) {
    case 'crash':
      address('node', f.node);
      flag('keepState', f.keepState);
      return;
    case 'pause':
    case 'isolate':
      address('node', f.node);
      return;
    case 'partition':
      group('a', f.a);
      group('b', f.b);
      flag('oneWay', f.oneWay);
      return;
    case 'latency':
      address('a', f.a);
      address('b', f.b);
      flag('oneWay', f.oneWay);
      if (f.latency === undefined) {
        throw invalidArgument(
          `${where}.latency`,
          f.latency,
          'a distribution or a duration such as "5ms"',
          component,
        );
      }
      resolveLink(DEFAULT_LINK, { latency: f.latency }, component, where);
      return;
    case 'loss':
      address('a', f.a);
      address('b', f.b);
      flag('oneWay', f.oneWay);
      if (f.loss === undefined)
        throw invalidArgument(`${where}.loss`, f.loss, 'a probability in [0, 1]', component);
      resolveLink(DEFAULT_LINK, { loss: f.loss }, component, where);
      return;
    case 'link':
      address('a', f.a);
      address('b', f.b);
      flag('oneWay', f.oneWay);
      resolveLink(DEFAULT_LINK, f.options, component, `${where}.options`);
      return;
    case 'degrade':
      address('node', f.node);
      if (typeof f.factor !== 'number' || !(f.factor > 0 && f.factor <= 1)) {
        throw invalidArgument(`${where}.factor`, f.factor, 'a number in (0, 1]', component);
      }
      return;
    case 'skew':
      address('node', f.node);
      assertFinite(`${where}.ms`, f.ms, component);
      return;
    case 'drift':
      address('node', f.node);
      if (typeof f.rate !== 'number' || !Number.isFinite(f.rate) || f.rate <= -1) {
        throw invalidArgument(`${where}.rate`, f.rate, 'a finite rate > -1', component);
      }
      return;
  }
}
