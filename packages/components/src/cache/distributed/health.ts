import type { RandomStream, RpcEndpoint, ScheduledHandle, Simulation } from '@dsim/core';
import type { CacheRequest } from '../cache-access.js';
import type { ResolvedHealthCheck } from './options.js';

interface NodeHealth {
  healthy: boolean;
  successes: number;
  failures: number;
  probing: boolean;
}

/**
 * Envoy-style active health checks over a changing set of nodes: consecutive failures and successes
 * against thresholds. Reports flips through `onFlip`. @internal
 */
export class HealthChecker {
  private readonly state = new Map<string, NodeHealth>();
  private handle: ScheduledHandle | null = null;
  private stopped = false;
  private probes = 0;

  constructor(
    private readonly sim: Simulation,
    private readonly endpoint: RpcEndpoint<any, any>,
    private readonly options: ResolvedHealthCheck,
    rng: RandomStream,
    private readonly nodes: () => readonly string[],
    private readonly onFlip: (node: string, healthy: boolean) => void,
  ) {
    // The first round at a random phase in (0, interval].
    const phase = (1 - rng.next()) * options.interval;
    this.handle = sim.schedule(phase, () => this.round());
  }

  /** Probes sent so far. */
  get sent(): number {
    return this.probes;
  }

  /** Whether the checks consider `node` healthy (true for a node never probed). */
  healthy(node: string): boolean {
    return this.state.get(node)?.healthy ?? true;
  }

  /** Forgets what the checks know of `node`: it counts as healthy again. */
  reset(node: string): void {
    this.state.delete(node);
  }

  /** Stops probing. */
  stop(): void {
    this.stopped = true;
    this.handle?.cancel();
    this.handle = null;
  }

  private round(): void {
    if (this.stopped) return;
    if (this.endpoint.node.isUp) for (const node of this.nodes()) this.probe(node);
    this.handle = this.sim.schedule(this.options.interval, () => this.round());
  }

  private probe(node: string): void {
    let s = this.state.get(node);
    if (s === undefined) {
      s = { healthy: true, successes: 0, failures: 0, probing: false };
      this.state.set(node, s);
    }
    if (s.probing) return;
    s.probing = true;
    this.probes++;
    const request: CacheRequest = { op: 'ping' };
    const h = s;
    this.endpoint.call(node, request, { timeout: this.options.timeout }).onProcessed((e) => {
      h.probing = false;
      if (this.stopped) return;
      if (e.value!.ok) {
        h.failures = 0;
        h.successes++;
        if (!h.healthy && h.successes >= this.options.healthyThreshold) {
          h.healthy = true;
          this.onFlip(node, true);
        }
      } else {
        h.successes = 0;
        h.failures++;
        if (h.healthy && h.failures >= this.options.unhealthyThreshold) {
          h.healthy = false;
          this.onFlip(node, false);
        }
      }
    });
  }
}
