import type { RpcEndpoint, RpcResponse } from '@dsim/core';
import type { ClusterConfig } from './config.js';
import type { DiskQueue } from './disk.js';
import type { ReplicaLog } from './replica-log.js';
import type { EpochResponse, FetchResponse } from './types.js';

/** What a fetcher needs from its broker. */
export interface FetcherHost {
  readonly self: string;
  readonly rpc: RpcEndpoint<any, any>;
  readonly disk: DiskQueue;
  readonly config: ClusterConfig;
  setTimer(ms: number, fn: () => void): void;
  /** After a truncation: trace and metrics. */
  onTruncate(removed: number, to: number, rule: string): void;
  /** After the follower's log or HW changed. */
  onProgress(): void;
}

/**
 * The follower side of one partition: first reconciles the log with the new leader (truncation by
 * leader epoch via OffsetsForLeaderEpoch, or to the replica's own HW with the pre-0.11 rule), then
 * pulls records in a loop: each fetch long-polls at the leader for up to `replica.fetch.wait.max.ms`,
 * appended records go through the broker's disk, and the follower's HW becomes min(leader HW, own LEO),
 * so it lags the leader's by a round trip. Kafka runs one fetcher thread per source broker for many
 * partitions; here each partition has its own loop (same protocol, more requests).
 *
 * @example
 * ```ts
 * const fetcher = new ReplicaFetcher(host, 'orders', 0, log, 'b1', 1);
 * fetcher.start();
 * ```
 */
export class ReplicaFetcher {
  private stopped = false;
  /** Fetches completed (for tests and metrics). */
  fetches = 0;

  constructor(
    private readonly host: FetcherHost,
    readonly topic: string,
    readonly partition: number,
    readonly log: ReplicaLog,
    readonly leader: string,
    readonly leaderEpoch: number,
  ) {}

  start(): void {
    this.truncate();
  }

  /** Stops the loop: responses that arrive later are ignored. */
  stop(): void {
    this.stopped = true;
  }

  private truncate(): void {
    if (this.stopped) return;
    const log = this.log;
    if (this.host.config.truncation === 'high-watermark') {
      this.truncateTo(log.highWatermark, 'high-watermark');
      this.fetch();
      return;
    }
    const lastEpoch = log.latestEpoch;
    if (lastEpoch < 0) {
      this.truncateTo(log.highWatermark, 'high-watermark');
      this.fetch();
      return;
    }
    const cfg = this.host.config;
    this.host.rpc
      .call<EpochResponse>(
        this.leader,
        {
          api: 'offsets-for-leader-epoch',
          topic: this.topic,
          partition: this.partition,
          currentLeaderEpoch: this.leaderEpoch,
          requestedEpoch: lastEpoch,
        },
        { timeout: cfg.replicaSocketTimeoutMs, size: 32 },
      )
      .onProcessed((ev) => {
        if (this.stopped) return;
        const res = ev.value as RpcResponse<EpochResponse>;
        if (!res.ok || res.value.error !== null) {
          this.host.setTimer(cfg.replicaFetchBackoffMs, () => this.truncate());
          return;
        }
        const { epoch, endOffset } = res.value;
        if (epoch < 0) this.truncateTo(log.highWatermark, 'high-watermark');
        else this.truncateTo(Math.min(endOffset, log.endOffsetFor(epoch).endOffset), 'leader-epoch');
        this.fetch();
      });
  }

  private truncateTo(offset: number, rule: string): void {
    const removed = this.log.truncateTo(offset);
    if (removed > 0) this.host.onTruncate(removed, offset, rule);
  }

  private fetch(): void {
    if (this.stopped) return;
    const cfg = this.host.config;
    const log = this.log;
    const fetchOffset = log.logEndOffset;
    this.host.rpc
      .call<FetchResponse>(
        this.leader,
        {
          api: 'fetch',
          topic: this.topic,
          partition: this.partition,
          replicaId: this.host.self,
          fetchOffset,
          leaderEpoch: this.leaderEpoch,
          maxBytes: cfg.replicaFetchMaxBytes,
          maxWaitMs: cfg.replicaFetchWaitMaxMs,
        },
        { timeout: cfg.replicaSocketTimeoutMs, size: 64 },
      )
      .onProcessed((ev) => {
        if (this.stopped) return;
        const res = ev.value as RpcResponse<FetchResponse>;
        if (
          res.ok &&
          res.value.error === 'offset-out-of-range' &&
          log.logEndOffset > res.value.logEndOffset
        ) {
          // The leader's log is shorter (an unclean or pre-KIP-101 election): cut ours to its end.
          this.truncateTo(res.value.logEndOffset, 'offset-out-of-range');
          this.fetch();
          return;
        }
        if (!res.ok || res.value.error !== null) {
          this.host.setTimer(cfg.replicaFetchBackoffMs, () => this.fetch());
          return;
        }
        this.fetches++;
        const body = res.value;
        // A compacted leader log has gaps: the first record may come after the fetch offset.
        const usable =
          log.logEndOffset === fetchOffset ? body.records.filter((r) => r.offset >= fetchOffset) : [];
        const done = (): void => {
          if (this.stopped) return;
          if (usable.length > 0 && log.logEndOffset === fetchOffset) log.appendAsFollower(usable);
          log.highWatermark = Math.min(body.highWatermark, log.logEndOffset);
          this.host.onProgress();
          this.fetch();
        };
        if (usable.length === 0) {
          done();
          return;
        }
        let bytes = 0;
        for (const r of usable) bytes += r.size;
        this.host.disk.write(bytes, done);
      });
  }
}
