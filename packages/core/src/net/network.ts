import { assertBoolean, DsimError, invalidArgument, showValue } from '../errors.js';
import { EventKind, NORMAL } from '../event-queue.js';
import { checkOptions, optionKeys } from '../options.js';
import type { Distribution } from '../random/distribution.js';
import type { RandomStream } from '../random/stream.js';
import type { Simulation } from '../simulation.js';
import { checkCallOptions } from '../strict.js';
import { DEFAULT_LINK, type LinkConfig, type LinkOptions, resolveLink } from './link.js';
import { NetNode } from './node.js';

/** A message as its receiver sees it. */
export interface Message<P = unknown> {
  /** Unique per network, 1, 2, ... (a duplicate keeps its original's id). */
  readonly id: number;
  readonly from: string;
  readonly to: string;
  readonly payload: P;
  /** Bytes, for bandwidth. */
  readonly size: number;
  /** True time it was sent. */
  readonly sentAt: number;
  /** True for the extra copy made by link duplication. */
  readonly duplicate: boolean;
}

/** Options of a send. */
export interface SendOptions {
  /**
   * Message size in bytes (serialization delay on links with finite bandwidth).
   * @default 0
   */
  size?: number;
}

/** Why a message was not delivered. */
export type DropReason = 'partition' | 'loss' | 'sender-down' | 'receiver-down' | 'unknown-address';

/** Message accounting. At every moment: sent + duplicated = delivered + dropped + inFlight. */
export interface NetworkStats {
  sent: number;
  duplicated: number;
  delivered: number;
  dropped: number;
  droppedBy: Record<DropReason, number>;
  /** Travelling, or queued at a paused receiver. */
  inFlight: number;
}

/** Undoes one `partition()` or `isolate()`, leaving others in place. */
export interface PartitionHandle {
  heal(): void;
}

/** Options of {@link Network}. */
export interface NetworkOptions {
  /** Defaults for every link without its own settings. See {@link LinkOptions} for the built-in defaults. */
  defaults?: LinkOptions;
  /**
   * Name used in traces and to derive the network's random streams.
   * @default 'net'
   */
  name?: string;
}

const NETWORK_KEYS = optionKeys<NetworkOptions>()({ defaults: true, name: true });
const SEND_KEYS = optionKeys<SendOptions>()({ size: true });
const BIDIRECTIONAL_KEYS = ['bidirectional'] as const;

/** A sender's cached way to one address: its link, the receiving node and its digest tag. @internal */
export interface Route {
  readonly link: LinkState;
  readonly dest: NetNode<any>;
  readonly tag: number;
  /** The receiver's route back to the sender, once a reply needed it: replies skip the address lookup. */
  back: Route | null;
}

/** @internal */
export interface LinkState {
  /** null: follow the network defaults. */
  own: LinkConfig | null;
  rng: RandomStream;
  busyUntil: number;
}

class Envelope<P> implements Message<P> {
  constructor(
    readonly id: number,
    readonly from: string,
    readonly to: string,
    readonly payload: P,
    readonly size: number,
    readonly sentAt: number,
    readonly duplicate: boolean,
    /** @internal */ readonly _net: Network,
    /** @internal The route it travels: its receiver, and the way back for a reply. */ readonly _route: Route,
  ) {}
}

function arrive(envelope: Envelope<unknown>): void {
  envelope._net._arrive(envelope);
}

const PAIR = '\u0000';

/**
 * Nodes with addresses, and one-way links between every pair that carry messages with a latency
 * distribution, loss, duplication and bandwidth. Fault verbs are named as the domain names them:
 * `crash`/`restart`, `pause`/`resume`, `partition`/`isolate`/`heal`, `setLink`/`setLatency`/`setLoss`,
 * `degrade`, `skew`/`drift`. Every fault is a `@dsim.fault` trace record.
 *
 * Partitions are checked when a message is sent and again when it would arrive: a partition that starts
 * while a message is in flight cuts it off. A crashed receiver drops what arrives; a paused one queues it
 * and handles it, in order, when it resumes.
 *
 * @example
 * ```ts
 * const net = new Network(sim, { defaults: { latency: exponential({ mean: 1 }) } });
 * const [a, b] = [net.addNode('a'), net.addNode('b')];
 * b.onMessage((m) => sim.log(`b got ${m.payload}`));
 * a.send('b', 'hello');
 * net.partition(['a'], ['b']);
 * ```
 */
export class Network {
  readonly name: string;
  private defaults: LinkConfig;
  private readonly nodes = new Map<string, NetNode<any>>();
  private readonly nodeIds = new Map<string, number>();
  private readonly links = new Map<string, LinkState>();
  // Reference counts, so healing one partition leaves an overlapping one in place.
  private readonly blocked = new Map<string, number>();
  private readonly isolated = new Map<string, number>();
  /** Whether any partition or isolation is in force: one field read per message when none is. */
  private cutting = false;
  private nextId = 1;
  private readonly counts: NetworkStats = {
    sent: 0,
    duplicated: 0,
    delivered: 0,
    dropped: 0,
    droppedBy: { partition: 0, loss: 0, 'sender-down': 0, 'receiver-down': 0, 'unknown-address': 0 },
    inFlight: 0,
  };

  constructor(
    readonly sim: Simulation,
    options: NetworkOptions = {},
  ) {
    checkOptions('Network', options, NETWORK_KEYS);
    const name = options.name ?? 'net';
    if (typeof name !== 'string' || name.length === 0) {
      throw invalidArgument('name', name, 'a non-empty string', 'Network');
    }
    this.name = name;
    this.defaults = resolveLink(DEFAULT_LINK, options.defaults ?? {}, 'Network', 'defaults');
  }

  /** Adds a node. Addresses are unique non-empty strings. */
  addNode<P = unknown>(address: string): NetNode<P> {
    if (typeof address !== 'string' || address.length === 0 || address.includes(PAIR)) {
      throw invalidArgument('address', address, 'a non-empty string', 'Network.addNode');
    }
    if (this.nodes.has(address))
      throw invalidArgument('address', address, 'an address not already on the network', 'Network.addNode');
    const node = new NetNode<P>(this, address);
    this.nodes.set(address, node);
    this.nodeIds.set(address, this.nodeIds.size + 1);
    return node;
  }

  /** The node at `address`; an error names the known addresses when there is none. */
  node<P = unknown>(address: string): NetNode<P> {
    const node = this.nodes.get(address);
    if (node === undefined) {
      throw invalidArgument(
        'address',
        address,
        `one of the network's nodes (${[...this.nodes.keys()].join(', ')})`,
      );
    }
    return node as NetNode<P>;
  }

  /** All addresses, in the order they were added. */
  get addresses(): string[] {
    return [...this.nodes.keys()];
  }

  /** A copy of the message accounting. */
  get stats(): NetworkStats {
    return { ...this.counts, droppedBy: { ...this.counts.droppedBy } };
  }

  /** Changes the defaults of every link that has no settings of its own. */
  setDefaults(options: LinkOptions): void {
    this.defaults = resolveLink(this.defaults, options, 'Network.setDefaults');
    this.fault('defaults', { options: describeLink(options) });
  }

  /**
   * Sets the link from `from` to `to` (both directions with `{ bidirectional: true }`), over its current
   * settings.
   *
   * @param flags - `bidirectional`: also set the link from `to` to `from`
   * @default flags.bidirectional false
   * @example
   * ```ts
   * net.setLink('a', 'b', { loss: 0.01, latency: lognormalFromMean(2, 0.5) }, { bidirectional: true });
   * ```
   */
  setLink(from: string, to: string, options: LinkOptions, flags?: { bidirectional?: boolean }): void {
    this.changeLink('Network.setLink', from, to, options, bidirectionalOf('Network.setLink', flags, false));
  }

  private changeLink(
    component: string,
    from: string,
    to: string,
    options: LinkOptions,
    bidirectional: boolean,
  ): void {
    const pairs: Array<[string, string]> = bidirectional
      ? [
          [from, to],
          [to, from],
        ]
      : [[from, to]];
    // Validate every direction before changing any.
    const resolved = pairs.map(([a, b]) => {
      const link = this.link(a, b);
      return [link, resolveLink(link.own ?? this.defaults, options, `${component} ${a} -> ${b}`)] as const;
    });
    for (const [link, own] of resolved) link.own = own;
    this.fault('link', { from, to, bidirectional, options: describeLink(options) });
  }

  /** @internal The link's own settings (null: network defaults), for faults that restore them. */
  _linkSettings(from: string, to: string): LinkConfig | null {
    return this.link(from, to).own;
  }

  /** @internal */
  _restoreLink(from: string, to: string, own: LinkConfig | null): void {
    this.link(from, to).own = own;
    this.fault('link-restore', { from, to });
  }

  /**
   * Sets one-way latency between two nodes (both ways unless `{ bidirectional: false }`).
   *
   * @default flags.bidirectional true
   * @example
   * ```ts
   * net.setLatency('eu', 'us', gamma({ shape: 4, scale: 20 }));
   * ```
   */
  setLatency(
    a: string,
    b: string,
    latency: Distribution | number | string,
    flags?: { bidirectional?: boolean },
  ): void {
    const both = bidirectionalOf('Network.setLatency', flags, true);
    this.changeLink('Network.setLatency', a, b, { latency }, both);
  }

  /**
   * Sets the loss probability between two nodes (both ways unless `{ bidirectional: false }`).
   *
   * @default flags.bidirectional true
   * @example
   * ```ts
   * net.setLoss('a', 'b', 0.05);
   * ```
   */
  setLoss(a: string, b: string, loss: number, flags?: { bidirectional?: boolean }): void {
    this.changeLink('Network.setLoss', a, b, { loss }, bidirectionalOf('Network.setLoss', flags, true));
  }

  /**
   * Cuts traffic between two groups of nodes: both ways, or only from `a` to `b` with `{ oneWay: true }`.
   * Traffic inside each group flows. Lasts until `heal()`.
   *
   * @example
   * ```ts
   * net.partition(['n1', 'n2'], ['n3', 'n4', 'n5']); // a minority and a majority
   * net.partition('leader', 'follower-1', { oneWay: true });
   * ```
   */
  partition(
    a: string | readonly string[],
    b: string | readonly string[],
    flags?: { oneWay?: boolean },
  ): PartitionHandle {
    checkOptions('Network.partition', flags, ['oneWay']);
    const oneWay = flags?.oneWay ?? false;
    assertBoolean('oneWay', oneWay, 'Network.partition');
    const left = this.group(a, 'partition(a)');
    const right = this.group(b, 'partition(b)');
    const keys: string[] = [];
    for (const x of left) {
      for (const y of right) {
        if (x === y)
          throw invalidArgument('partition', x, 'two disjoint groups (a node cannot be on both sides)');
        keys.push(x + PAIR + y);
        if (!oneWay) keys.push(y + PAIR + x);
      }
    }
    for (const key of keys) this.blocked.set(key, (this.blocked.get(key) ?? 0) + 1);
    this.recount();
    this.fault('partition', { a: left, b: right, oneWay });
    let healed = false;
    return {
      heal: () => {
        if (healed) return;
        healed = true;
        for (const key of keys) release(this.blocked, key);
        this.recount();
        this.fault('heal', { a: left, b: right, oneWay });
      },
    };
  }

  /** Cuts a node off from every other node until its handle or `heal()` heals it. */
  isolate(address: string): PartitionHandle {
    this.node(address);
    this.isolated.set(address, (this.isolated.get(address) ?? 0) + 1);
    this.recount();
    this.fault('isolate', { node: address });
    let healed = false;
    return {
      heal: () => {
        if (healed) return;
        healed = true;
        release(this.isolated, address);
        this.recount();
        this.fault('heal', { node: address });
      },
    };
  }

  /** Removes every partition and isolation. */
  heal(): void {
    this.blocked.clear();
    this.isolated.clear();
    this.recount();
    this.fault('heal', {});
  }

  private recount(): void {
    this.cutting = this.blocked.size > 0 || this.isolated.size > 0;
  }

  /** True if a message from `from` to `to` would be cut off now. */
  isBlocked(from: string, to: string): boolean {
    if (!this.cutting) return false;
    if (this.isolated.size > 0 && from !== to && (this.isolated.has(from) || this.isolated.has(to)))
      return true;
    return this.blocked.size > 0 && this.blocked.has(from + PAIR + to);
  }

  /** Crashes a node: its in-memory state is lost (its crash hooks run), its timers die, arrivals are dropped. */
  crash(address: string): void {
    this.node(address)._crash();
    this.fault('crash', { node: address });
  }

  /**
   * Restarts a crashed node; with `keepState` its restart hooks are told the state survived.
   *
   * @default flags.keepState false
   * @example
   * ```ts
   * net.restart('db-1', { keepState: true }); // a process restart that kept its disk
   * ```
   */
  restart(address: string, flags?: { keepState?: boolean }): void {
    checkOptions('Network.restart', flags, ['keepState']);
    const keepState = flags?.keepState ?? false;
    assertBoolean('keepState', keepState, 'Network.restart');
    this.node(address)._restart(keepState);
    this.fault('restart', { node: address, keepState });
  }

  /** Stops the world on a node (a GC pause): arrivals queue and its timers stall until `resume()`. */
  pause(address: string): void {
    this.node(address)._pause();
    this.fault('pause', { node: address });
  }

  /** Ends a pause: queued messages are handled in arrival order, then stalled timers run. */
  resume(address: string): void {
    const node = this.node(address);
    const { inbox, stalled } = node._resume();
    this.fault('resume', { node: address, queued: inbox.length });
    for (const message of inbox)
      this.sim._push(this.sim.now, NORMAL, arrive, message, EventKind.message, this.idOf(address));
    for (const fn of stalled) this.sim.schedule(0, fn);
  }

  /** Sets a node's capacity factor in (0, 1] (1 restores full capacity). */
  degrade(address: string, factor: number): void {
    this.node(address)._setCapacity(factor);
    this.fault('degrade', { node: address, factor });
  }

  /** Jumps a node's local clock by `ms`. */
  skew(address: string, ms: number): void {
    this.node(address).clock.skew(ms);
    this.fault('skew', { node: address, ms });
  }

  /** Sets a node's clock drift (1e-4 = 100 ppm fast). */
  drift(address: string, rate: number): void {
    this.node(address).clock.drift(rate);
    this.fault('drift', { node: address, rate });
  }

  /** @internal */
  _send<P>(sender: NetNode<P>, to: string, payload: P, options: SendOptions | undefined): number {
    let size = 0;
    if (options !== undefined) {
      checkCallOptions('NetNode.send', options, SEND_KEYS);
      size = options.size ?? 0;
      if (typeof size !== 'number' || !(size >= 0) || size === Infinity) {
        throw invalidArgument('size', size, 'a finite number of bytes >= 0', 'NetNode.send');
      }
    }
    return this._sendSized(sender, to, payload, size);
  }

  /** @internal A send whose size the caller validated (the RPC layer): no options to check per message. */
  _sendSized<P>(sender: NetNode<P>, to: string, payload: P, size: number): number {
    return this.sendOn(sender, to, this.routeTo(sender, to), payload, size);
  }

  /**
   * @internal Answers `message`, delivered to `receiver`, with a message back to its sender: the same as
   * `_sendSized(receiver, message.from, payload, size)` without the address lookup, as the route back is
   * kept on the route the message came by.
   */
  _reply<P>(receiver: NetNode<P>, message: Message<unknown>, payload: P, size: number): number {
    if (!(message instanceof Envelope) || message._route.dest !== receiver) {
      return this._sendSized(receiver, message.from, payload, size);
    }
    const route = message._route;
    // The sender is a node of this network (it sent the message), so the route back exists.
    const back = route.back ?? (route.back = this.routeTo(receiver, message.from)!);
    return this.sendOn(receiver, message.from, back, payload, size);
  }

  /**
   * The sender's cached route to `to` (link state, receiver, digest tag): one map lookup per message,
   * made on first use; undefined for an unknown address.
   */
  private routeTo(sender: NetNode<any>, to: string): Route | undefined {
    let route = sender._routes.get(to);
    if (route === undefined) {
      const dest = this.nodes.get(to);
      if (dest === undefined) return undefined;
      route = { link: this.link(sender.address, to), dest, tag: this.nodeIds.get(to)!, back: null };
      sender._routes.set(to, route);
    }
    return route;
  }

  /** Sends on `route`; none when the address is unknown: the message is counted and dropped. */
  private sendOn<P>(
    sender: NetNode<P>,
    to: string,
    route: Route | undefined,
    payload: P,
    size: number,
  ): number {
    const counts = this.counts;
    const id = this.nextId++;
    counts.sent++;
    const sim = this.sim;
    const from = sender.address;
    if (sim.tracing) sim.emit('@dsim.net.send', { id, from, to, size });
    if (!sender.isUp) return this.drop(id, from, to, 'sender-down');
    if (route === undefined) return this.drop(id, from, to, 'unknown-address');
    if (this.isBlocked(from, to)) return this.drop(id, from, to, 'partition');
    const link = route.link;
    const config = link.own ?? this.defaults;
    if (config.loss > 0 && link.rng.next() < config.loss) return this.drop(id, from, to, 'loss');
    let departs = sim.now;
    if (config.bandwidth !== Infinity) {
      departs = Math.max(departs, link.busyUntil) + (size / config.bandwidth) * 1000;
      link.busyUntil = departs;
    }
    const tag = route.tag;
    const delay = config.latency.sample(link.rng);
    // Also catches NaN. A message cannot arrive before it was sent.
    if (!(delay >= 0)) throw this.negativeDelay(from, to, config.latency, delay);
    counts.inFlight++;
    // Messages mostly arrive in the order they were sent (constant latency, or one link's bandwidth):
    // the queue's in-order ring takes them when they do, and its calendar when they do not.
    sim._pushInOrder(
      departs + delay,
      arrive,
      new Envelope(id, from, to, payload, size, sim.now, false, this, route),
      EventKind.message,
      tag,
    );
    if (config.duplicate > 0 && link.rng.next() < config.duplicate) {
      const copyDelay = config.latency.sample(link.rng);
      if (!(copyDelay >= 0)) throw this.negativeDelay(from, to, config.latency, copyDelay);
      counts.duplicated++;
      counts.inFlight++;
      sim._push(
        departs + copyDelay,
        NORMAL,
        arrive,
        new Envelope(id, from, to, payload, size, sim.now, true, this, route),
        EventKind.message,
        tag,
      );
    }
    return id;
  }

  /** @internal A message reached the end of its link (or a paused node resumed). */
  _arrive(envelope: Envelope<unknown>): void {
    const counts = this.counts;
    if (this.isBlocked(envelope.from, envelope.to)) {
      counts.inFlight--;
      this.drop(envelope.id, envelope.from, envelope.to, 'partition');
      return;
    }
    const outcome = envelope._route.dest._deliver(envelope);
    if (outcome === 'queued') return;
    counts.inFlight--;
    if (outcome === 'down') {
      this.drop(envelope.id, envelope.from, envelope.to, 'receiver-down');
      return;
    }
    counts.delivered++;
    const sim = this.sim;
    if (sim.tracing) {
      sim.emit('@dsim.net.deliver', {
        id: envelope.id,
        from: envelope.from,
        to: envelope.to,
        latency: sim.now - envelope.sentAt,
      });
    }
  }

  private negativeDelay(from: string, to: string, latency: Distribution, value: number): DsimError {
    const sim = this.sim;
    const distribution = describeDistribution(latency);
    return new DsimError(
      'INVALID_DURATION',
      `Network '${this.name}': the latency of link ${from} -> ${to} sampled ${showValue(value)} ms from ` +
        `${distribution}; latency must be >= 0 (a message cannot arrive before it is sent): use a ` +
        `non-negative distribution (lognormal, gamma, exponential) or truncate(dist, { min: 0 })`,
      {
        simTime: sim.now,
        seed: sim.seed,
        details: {
          component: 'Network',
          link: `${from} -> ${to}`,
          field: 'latency',
          distribution,
          value,
          stream: `${this.name}/link/${from}->${to}`,
        },
      },
    );
  }

  private drop(id: number, from: string, to: string, reason: DropReason): number {
    this.counts.dropped++;
    this.counts.droppedBy[reason]++;
    const sim = this.sim;
    if (sim.tracing) sim.emit('@dsim.net.drop', { id, from, to, reason });
    return id;
  }

  private link(from: string, to: string): LinkState {
    const key = from + PAIR + to;
    let link = this.links.get(key);
    if (link === undefined) {
      this.node(from);
      this.node(to);
      link = { own: null, rng: this.sim.rng(`${this.name}/link/${from}->${to}`), busyUntil: 0 };
      this.links.set(key, link);
    }
    return link;
  }

  private idOf(address: string): number {
    return this.nodeIds.get(address) ?? 0;
  }

  private group(spec: string | readonly string[], field: string): string[] {
    const list = typeof spec === 'string' ? [spec] : [...spec];
    if (list.length === 0)
      throw invalidArgument(field, spec, 'a node address or a non-empty list of addresses');
    for (const address of list) this.node(address);
    return list;
  }

  private fault(fault: string, fields: Record<string, unknown>): void {
    const sim = this.sim;
    // Link settings are configuration as often as faults: the fault schedule logs its own (faults.ts).
    if (fault !== 'link' && fault !== 'link-restore' && fault !== 'defaults')
      sim.faultLog.push({ t: sim.now, fault, fields });
    if (sim.tracing) sim.emit('@dsim.fault', { fault, ...fields });
  }
}

function release(counts: Map<string, number>, key: string): void {
  const n = (counts.get(key) ?? 0) - 1;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}

function bidirectionalOf(
  component: string,
  flags: { bidirectional?: boolean } | undefined,
  fallback: boolean,
): boolean {
  checkOptions(component, flags, BIDIRECTIONAL_KEYS);
  const bidirectional = flags?.bidirectional ?? fallback;
  assertBoolean('bidirectional', bidirectional, component);
  return bidirectional;
}

/** A distribution's `describe()`, or its kind for a hand-written one without it. */
function describeDistribution(dist: Distribution): string {
  if (typeof dist.describe === 'function') return dist.describe();
  return typeof dist.kind === 'string' ? dist.kind : 'a custom distribution';
}

function describeLink(options: LinkOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) {
    out[k] = typeof v === 'object' && v !== null && 'describe' in v ? (v as Distribution).describe() : v;
  }
  return out;
}
