import type { NetNode } from '@dsim/core';

/**
 * A broker's log device: appends are served one at a time, each taking a fixed per-request cost plus
 * bytes / throughput, so a broker saturates when produce plus replication traffic exceeds it. The work
 * runs on the node (a pause delays it; a crash loses what was queued: those appends never happened).
 *
 * @example
 * ```ts
 * const disk = new DiskQueue(node, 0.05, 500_000);
 * disk.write(16_384, () => log.appendAsFollower(records));
 * ```
 */
export class DiskQueue {
  private freeAt = 0;
  private queued = 0;

  /**
   * @param requestTimeMs - fixed cost of one append @default 0.05 ms
   * @param throughput - bytes per ms @default 500000
   */
  constructor(
    private readonly node: NetNode<any>,
    private readonly requestTimeMs: number,
    private readonly throughput: number,
  ) {
    node.onCrash(() => {
      this.freeAt = 0;
      this.queued = 0;
    });
  }

  /** Appends waiting or in service. */
  get depth(): number {
    return this.queued;
  }

  /** Runs `done` when an append of `bytes` has been written, after the appends queued before it. */
  write(bytes: number, done: () => void): void {
    const now = this.node.network.sim.now;
    const cost = this.requestTimeMs + (this.throughput === Infinity ? 0 : bytes / this.throughput);
    this.freeAt = Math.max(now, this.freeAt) + cost;
    this.queued++;
    this.node.work(this.freeAt - now, () => {
      this.queued--;
      done();
    });
  }
}
