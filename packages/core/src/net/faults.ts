import { type Duration, toMs } from '../duration.js';
import { DsimError, invalidArgument, showValue } from '../errors.js';
import { URGENT } from '../event-queue.js';
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

/**
 * Declares a fault schedule up front. Every entry is validated before anything is scheduled (a bad entry
 * names its index and field). Faults apply at their time before ordinary events of the same instant, in
 * the order given when times tie; each start and end is a `@dsim.fault` trace record.
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
  if (!Array.isArray(schedule))
    throw invalidArgument('fault schedule', schedule, 'an array of { at, for?, fault }');
  const sim = net.sim;
  const planned = schedule.map((entry, i) => {
    const where = `faults[${i}]`;
    if (entry === null || typeof entry !== 'object')
      throw invalidArgument(where, entry, 'an object { at, for?, fault }');
    const at = toMs(entry.at, `${where}.at`);
    if (at < sim.now) throw invalidArgument(`${where}.at`, entry.at, `a time >= now (${sim.now} ms)`);
    const duration = entry.for === undefined ? undefined : toMs(entry.for, `${where}.for`);
    validateFault(net, entry.fault, `${where}.fault`);
    return { at, duration, fault: entry.fault };
  });
  for (const { at, duration, fault } of planned) {
    sim.scheduleAt(
      at,
      () => {
        const undo = applyFault(net, fault);
        if (duration !== undefined) sim.schedule(duration, undo, { priority: URGENT });
      },
      { priority: URGENT },
    );
  }
}

/**
 * Applies a fault now; returns what undoes it (restoring the previous settings, not the defaults).
 *
 * @example
 * ```ts
 * const heal = applyFault(net, { kind: 'partition', a: 'n1', b: 'n2' });
 * sim.schedule('5s', heal);
 * ```
 */
export function applyFault(net: Network, fault: Fault): () => void {
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
      return changeLink(net, fault.a, fault.b, { latency: fault.latency }, fault.oneWay ?? false);
    case 'loss':
      return changeLink(net, fault.a, fault.b, { loss: fault.loss }, fault.oneWay ?? false);
    case 'link':
      return changeLink(net, fault.a, fault.b, fault.options, fault.oneWay ?? false);
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
    default:
      throw invalidArgument('fault.kind', (fault as { kind: unknown }).kind, KINDS);
  }
}

const KINDS =
  'one of "crash", "pause", "partition", "isolate", "latency", "loss", "link", "degrade", "skew", "drift"';

function changeLink(net: Network, a: string, b: string, options: LinkOptions, oneWay: boolean): () => void {
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
  };
}

function validateFault(net: Network, fault: Fault, where: string): void {
  if (fault === null || typeof fault !== 'object')
    throw invalidArgument(where, fault, `a fault object with kind ${KINDS}`);
  const known = new Set(net.addresses);
  const address = (field: string, value: unknown): void => {
    if (typeof value !== 'string' || !known.has(value)) {
      throw new DsimError(
        'INVALID_ARGUMENT',
        `${where}.${field} must be one of the network's nodes (${[...known].join(', ')}), got ${showValue(value)}`,
        { details: { field: `${where}.${field}`, value } },
      );
    }
  };
  switch (fault.kind) {
    case 'crash':
    case 'pause':
    case 'isolate':
      address('node', fault.node);
      return;
    case 'partition':
      for (const x of typeof fault.a === 'string' ? [fault.a] : fault.a) address('a', x);
      for (const x of typeof fault.b === 'string' ? [fault.b] : fault.b) address('b', x);
      return;
    case 'latency':
      address('a', fault.a);
      address('b', fault.b);
      resolveLink(DEFAULT_LINK, { latency: fault.latency }, where);
      return;
    case 'loss':
      address('a', fault.a);
      address('b', fault.b);
      resolveLink(DEFAULT_LINK, { loss: fault.loss }, where);
      return;
    case 'link':
      address('a', fault.a);
      address('b', fault.b);
      resolveLink(DEFAULT_LINK, fault.options, `${where}.options`);
      return;
    case 'degrade':
      address('node', fault.node);
      if (typeof fault.factor !== 'number' || !(fault.factor > 0 && fault.factor <= 1)) {
        throw invalidArgument(`${where}.factor`, fault.factor, 'a number in (0, 1]');
      }
      return;
    case 'skew':
      address('node', fault.node);
      if (typeof fault.ms !== 'number' || !Number.isFinite(fault.ms))
        throw invalidArgument(`${where}.ms`, fault.ms, 'a finite number');
      return;
    case 'drift':
      address('node', fault.node);
      if (typeof fault.rate !== 'number' || !Number.isFinite(fault.rate) || fault.rate <= -1) {
        throw invalidArgument(`${where}.rate`, fault.rate, 'a finite rate > -1');
      }
      return;
    default:
      throw invalidArgument(`${where}.kind`, (fault as { kind: unknown }).kind, KINDS);
  }
}
