import type { RandomStream } from '@dsim/core';
import type { AmqpBroker } from './broker.js';
import type { AmqpMessage } from './message.js';
import type { ResolvedQueueOptions } from './options.js';
import type { QueueEntry } from './queue.js';

/** One replicated command of a quorum queue's log. @internal */
export type QuorumOp =
  | {
      readonly op: 'enqueue';
      readonly seq: number;
      readonly msg: AmqpMessage;
      readonly enqueuedAt: number;
      readonly expiresAt: number;
    }
  | { readonly op: 'remove'; readonly seq: number }
  | { readonly op: 'return'; readonly seq: number };

/** Replication messages between brokers. @internal */
export type QuorumWire =
  | {
      readonly amqp: 'qq';
      readonly kind: 'append';
      readonly queue: string;
      readonly term: number;
      readonly index: number;
      readonly op: QuorumOp;
      readonly options: ResolvedQueueOptions;
      readonly members: readonly string[];
    }
  | {
      readonly amqp: 'qq';
      readonly kind: 'ack';
      readonly queue: string;
      readonly term: number;
      readonly index: number;
    }
  | {
      readonly amqp: 'qq';
      readonly kind: 'tick';
      readonly queue: string;
      readonly term: number;
      readonly options: ResolvedQueueOptions;
      readonly members: readonly string[];
    }
  | {
      readonly amqp: 'qq';
      readonly kind: 'vote-req';
      readonly queue: string;
      readonly term: number;
      readonly lastIndex: number;
    }
  | {
      readonly amqp: 'qq';
      readonly kind: 'vote';
      readonly queue: string;
      readonly term: number;
      readonly granted: boolean;
    }
  | {
      /** The leader deleted the queue (x-expires): every replica drops its copy. */
      readonly amqp: 'qq';
      readonly kind: 'delete';
      readonly queue: string;
      readonly term: number;
    };

interface Held {
  readonly msg: AmqpMessage;
  readonly enqueuedAt: number;
  readonly expiresAt: number;
  returns: number;
}

/**
 * The replication of one quorum queue on one member broker: a Raft-like log of enqueue, remove
 * (ack, dead-letter, drop) and return commands. Simplifications, all documented:
 *
 * - the leader applies an enqueue (the message becomes deliverable and the publisher gets its confirm)
 *   once a majority of members, itself included, have appended it; removes and returns are applied at
 *   the leader at once and replicated asynchronously;
 * - followers apply entries as they arrive and keep the set of unsettled messages (not the consumers);
 * - a follower that hears nothing from the leader for 5 ticks starts an election; a vote is granted to
 *   a candidate whose log is at least as long; on a term change followers drop their log and the new
 *   leader resends it whole (a snapshot, instead of Raft's log matching);
 * - a new leader makes every unsettled message ready again, in publish order (its consumers are gone
 *   with the old leader's node), keeping each message's return count;
 * - clients publish to and consume from the leader's broker; a follower refuses publishes (nack) and
 *   consumers (404). Exchanges and bindings are per broker: declare them on every broker.
 * - queue expiry (`expires`) runs at the leader: the lease starts when a member becomes leader (RabbitMQ
 *   keeps the last activity in the replicated state); when it ends the leader deletes the queue at once
 *   and tells the other members, which drop their copies (a member down at that moment keeps its copy).
 *
 * @example
 * ```ts
 * // Three brokers listing the same cluster; the queue is led by the first member.
 * const b = ['r1', 'r2', 'r3'].map((a) => new AmqpBroker(net.addNode(a), { cluster: ['r1', 'r2', 'r3'] }));
 * for (const x of b) x.declareQueue('orders', { type: 'quorum' });
 * ```
 */
export class QuorumGroup {
  private role: 'leader' | 'follower' | 'candidate';
  private term = 0;
  /** Who this member voted for in the current term (Raft allows one vote per term). */
  private votedFor: string | null = null;
  private votes = 0;
  private log: QuorumOp[] = [];
  private readonly held = new Map<number, Held>();
  private readonly match = new Map<string, number>();
  /** Leader: the highest index sent to each follower (entries are pipelined, as Raft leaders do). */
  private readonly sent = new Map<string, number>();
  /** Follower: entries that arrived ahead of a gap (links may reorder), applied once it fills. */
  private readonly ahead = new Map<number, QuorumOp>();
  private readonly lastRepair = new Map<string, number>();
  private commitIndex = 0;
  private readonly pending = new Map<number, { entry: QueueEntry; done: () => void }>();
  private lastHeard = 0;
  private up = true;
  private syncedTerm = 0;
  private electionRng: RandomStream | undefined;

  constructor(
    private readonly broker: AmqpBroker,
    readonly queue: string,
    readonly options: ResolvedQueueOptions,
    readonly members: readonly string[],
    leader: boolean,
  ) {
    this.role = leader && members[0] === broker.address ? 'leader' : 'follower';
  }

  /** True while this member leads the queue. */
  get isLeader(): boolean {
    return this.role === 'leader' && this.up;
  }

  /** The current term. */
  get currentTerm(): number {
    return this.term;
  }

  /** Messages this member knows as unsettled (followers: replicated state). */
  get heldCount(): number {
    return this.held.size;
  }

  /** Starts the timers. */
  start(): void {
    this.lastHeard = this.now;
    this.arm();
  }

  /** Replicates an enqueue; `done` runs once a majority has it (the entry is then enqueued). */
  enqueue(entry: QueueEntry, done: () => void): void {
    const index = this.append({
      op: 'enqueue',
      seq: entry.seq,
      msg: entry.msg,
      enqueuedAt: entry.enqueuedAt,
      expiresAt: entry.expiresAt,
    });
    this.pending.set(index, { entry, done });
    this.advanceCommit();
  }

  /** The leader settled `entry` for good (ack, dead-letter, drop). */
  removed(entry: QueueEntry): void {
    if (this.isLeader) this.append({ op: 'remove', seq: entry.seq });
  }

  /** The leader returned `entry` to the queue. */
  returned(entry: QueueEntry): void {
    if (this.isLeader && this.broker._queue(this.queue) !== undefined)
      this.append({ op: 'return', seq: entry.seq });
  }

  /**
   * Before the queue is deleted: the enqueues still waiting for a majority are applied now (in Raft the
   * deletion would commit after them) and their publishers confirmed.
   */
  drainPending(): void {
    const queue = this.broker._queue(this.queue);
    for (const [index, p] of [...this.pending].sort((a, b) => a[0] - b[0])) {
      this.pending.delete(index);
      queue?.enqueue(p.entry);
      p.done();
    }
  }

  /** The queue was deleted (x-expires): a leader tells the other members; the timers stop for good. */
  delete(): void {
    if (this.isLeader)
      for (const m of this.members)
        if (m !== this.broker.address)
          this.send(m, { amqp: 'qq', kind: 'delete', queue: this.queue, term: this.term });
    this.up = false;
    this.pending.clear();
    this.held.clear();
    this.log = [];
  }

  /** The member's broker crashed: its log is on disk, its role is gone. */
  crash(): void {
    this.up = false;
    this.pending.clear();
  }

  /** The member's broker restarted: a single member leads again; otherwise it waits to hear a leader. */
  restart(): void {
    this.up = true;
    if (this.members.length > 1) this.role = 'follower';
    if (this.role === 'follower') this.broker._queue(this.queue)?.reset();
    this.lastHeard = this.now;
    this.arm();
  }

  /** Handles a replication message from another member. */
  receive(from: string, w: QuorumWire): void {
    if (!this.up) return;
    if (w.term > this.term) this.stepDown(w.term);
    if ((w.kind === 'append' || w.kind === 'tick') && w.term === this.term && w.term !== this.syncedTerm) {
      // First word from this term's leader: drop the log; the leader resends its whole log (a snapshot).
      this.syncedTerm = w.term;
      this.log = [];
      this.held.clear();
      this.ahead.clear();
    }
    switch (w.kind) {
      case 'append':
        if (w.term < this.term) return;
        this.lastHeard = this.now;
        if (w.index === this.log.length + 1) {
          this.log.push(w.op);
          this.applyFollower(w.op);
          for (let next = this.ahead.get(this.log.length + 1); next !== undefined; ) {
            this.ahead.delete(this.log.length + 1);
            this.log.push(next);
            this.applyFollower(next);
            next = this.ahead.get(this.log.length + 1);
          }
        } else if (w.index > this.log.length + 1) this.ahead.set(w.index, w.op);
        this.send(from, {
          amqp: 'qq',
          kind: 'ack',
          queue: this.queue,
          term: this.term,
          index: this.log.length,
        });
        return;
      case 'tick':
        if (w.term < this.term) return;
        this.lastHeard = this.now;
        this.send(from, {
          amqp: 'qq',
          kind: 'ack',
          queue: this.queue,
          term: this.term,
          index: this.log.length,
        });
        return;
      case 'ack':
        if (!this.isLeader || w.term !== this.term) return;
        this.match.set(from, Math.max(this.match.get(from) ?? 0, w.index));
        this.advanceCommit();
        // Caught up with everything sent: send what was appended meanwhile.
        if (w.index >= (this.sent.get(from) ?? 0)) this.sendFrom(from, w.index + 1);
        return;
      case 'vote-req': {
        const grant =
          w.term === this.term &&
          this.role !== 'leader' &&
          (this.votedFor === null || this.votedFor === from) &&
          w.lastIndex >= this.log.length;
        if (grant) this.votedFor = from;
        this.send(from, { amqp: 'qq', kind: 'vote', queue: this.queue, term: this.term, granted: grant });
        return;
      }
      case 'vote':
        if (this.role !== 'candidate' || w.term !== this.term || !w.granted) return;
        this.votes++;
        if (this.votes >= this.majority) this.becomeLeader();
        return;
      case 'delete':
        return; // handled by the broker (it drops this group)
    }
  }

  private get now(): number {
    return this.broker.node.network.sim.now;
  }

  private get majority(): number {
    return Math.floor(this.members.length / 2) + 1;
  }

  private stepDown(term: number): void {
    const wasLeader = this.role === 'leader';
    this.term = term;
    this.votedFor = null;
    this.role = 'follower';
    if (wasLeader) this.broker._queue(this.queue)?.reset();
  }

  private append(op: QuorumOp): number {
    this.log.push(op);
    const index = this.log.length;
    // Pipelined: a follower that has been sent everything before this entry gets it now, without
    // waiting for its ack of the previous one.
    for (const m of this.members) {
      if (m === this.broker.address) continue;
      if ((this.sent.get(m) ?? this.match.get(m) ?? 0) === index - 1) {
        this.sendAppend(m, index);
        this.sent.set(m, index);
      }
    }
    return index;
  }

  /** Sends a follower the entries from `from` on (at most 1000 at a time). */
  private sendFrom(to: string, from: number): void {
    const last = Math.min(this.log.length, from + 999);
    for (let i = from; i <= last; i++) this.sendAppend(to, i);
    if (last >= from) this.sent.set(to, last);
  }

  private sendAppend(to: string, index: number): void {
    this.send(to, {
      amqp: 'qq',
      kind: 'append',
      queue: this.queue,
      term: this.term,
      index,
      op: this.log[index - 1]!,
      options: this.options,
      members: this.members,
    });
  }

  private send(to: string, w: QuorumWire): void {
    this.broker.node.send(to, w);
  }

  private advanceCommit(): void {
    const counts = this.members.map((m) =>
      m === this.broker.address ? this.log.length : (this.match.get(m) ?? 0),
    );
    counts.sort((a, b) => b - a);
    const committed = counts[this.majority - 1]!;
    if (committed <= this.commitIndex) return;
    const from = this.commitIndex + 1;
    this.commitIndex = committed;
    const queue = this.broker._queue(this.queue);
    for (let i = from; i <= committed; i++) {
      const p = this.pending.get(i);
      if (p === undefined) continue;
      this.pending.delete(i);
      queue?.enqueue(p.entry);
      p.done();
    }
  }

  private applyFollower(op: QuorumOp): void {
    if (op.op === 'enqueue') {
      this.held.set(op.seq, { msg: op.msg, enqueuedAt: op.enqueuedAt, expiresAt: op.expiresAt, returns: 0 });
      this.broker._bumpSeq(op.seq);
    } else if (op.op === 'remove') this.held.delete(op.seq);
    else {
      const h = this.held.get(op.seq);
      if (h !== undefined) h.returns++;
    }
  }

  private arm(): void {
    const tick = this.broker.config.quorumTick;
    this.broker.node.setTimer(tick, () => {
      if (!this.up) return;
      if (this.role === 'leader') {
        for (const m of this.members) {
          if (m === this.broker.address) continue;
          this.send(m, {
            amqp: 'qq',
            kind: 'tick',
            queue: this.queue,
            term: this.term,
            options: this.options,
            members: this.members,
          });
          // Repair a follower that made no progress since the last tick: resend what it misses.
          const have = this.match.get(m) ?? 0;
          if (have < this.log.length && this.lastRepair.get(m) === have) this.sendFrom(m, have + 1);
          this.lastRepair.set(m, have);
        }
      } else if (this.now - this.lastHeard >= 5 * tick) this.campaign();
      this.arm();
    });
  }

  private campaign(): void {
    this.term++;
    this.role = 'candidate';
    this.votedFor = this.broker.address;
    this.votes = 1;
    // Raft's randomised election timeout: a candidate that does not win waits 5 to 10 ticks before it
    // tries again, so two members that timed out together do not split the vote forever.
    const rng = (this.electionRng ??= this.broker.node.network.sim.rng(
      `${this.broker.address}/quorum/${this.queue}`,
    ));
    this.lastHeard = this.now + rng.next() * 5 * this.broker.config.quorumTick;
    if (this.votes >= this.majority) {
      this.becomeLeader();
      return;
    }
    for (const m of this.members)
      if (m !== this.broker.address)
        this.send(m, {
          amqp: 'qq',
          kind: 'vote-req',
          queue: this.queue,
          term: this.term,
          lastIndex: this.log.length,
        });
  }

  private becomeLeader(): void {
    this.role = 'leader';
    this.syncedTerm = this.term;
    this.match.clear();
    this.sent.clear();
    this.lastRepair.clear();
    this.commitIndex = this.log.length;
    const queue = this.broker._queue(this.queue) ?? this.broker._adoptQueue(this.queue, this.options);
    for (const [seq, h] of [...this.held].sort((a, b) => a[0] - b[0])) {
      const entry: QueueEntry = {
        msg: h.msg,
        seq,
        enqueuedAt: h.enqueuedAt,
        expiresAt: h.expiresAt,
        redelivered: h.returns > 0,
        returns: h.returns,
      };
      queue.adopt(entry);
    }
    this.held.clear();
    queue.dispatch();
    queue.touch(); // the x-expires lease starts afresh at the new leader
    if (this.broker.node.network.sim.tracing)
      this.broker.node.network.sim.emit('@dsim.amqp.quorum-leader', {
        queue: this.queue,
        leader: this.broker.address,
        term: this.term,
      });
  }

  /** Follower creation from a replication message. @internal */
  static fromWire(broker: AmqpBroker, w: Extract<QuorumWire, { kind: 'append' | 'tick' }>): QuorumGroup {
    const g = new QuorumGroup(broker, w.queue, w.options, w.members, false);
    g.term = w.term;
    g.syncedTerm = w.term;
    g.start();
    return g;
  }
}
