import { checkEnum, checkOptions, invalidOption, isObject, optionKeys, owner } from '@dsim/core';
import type { BalancerBackend, BalancerPolicy, PickContext } from '../policy.js';

/**
 * What identifies a session for {@link StickyPolicy}: the request's `key` (a session cookie, a user id),
 * or `source`, the caller's address (`request.from`; nginx `ip_hash`, AWS source-IP stickiness).
 *
 * @example
 * ```ts
 * const by: StickySessionKey = 'source';
 * ```
 */
export type StickySessionKey = 'key' | 'source';

/**
 * Options of {@link StickyPolicy}.
 *
 * @example
 * ```ts
 * const options: StickyPolicyOptions = { key: 'key' };
 * ```
 */
export interface StickyPolicyOptions {
  /** What identifies a session. @default 'key' */
  key?: StickySessionKey;
}

/**
 * Lifetime counts of a {@link StickyPolicy}.
 *
 * @example
 * ```ts
 * const { sessions, lost } = sticky.stats;
 * ```
 */
export interface StickyStats {
  /** Sessions placed for the first time by the inner policy. */
  sessions: number;
  /** Re-placements: a session's backend was unavailable (crashed, ejected, removed) at its next request. */
  lost: number;
  /** Requests without a session id (no key, or `source` and no caller), balanced by the inner policy. */
  unkeyed: number;
}

const KEYS: readonly StickySessionKey[] = ['key', 'source'];
const OPTION_KEYS = optionKeys<StickyPolicyOptions>()({ key: true });

/**
 * Session affinity around any policy, like an application cookie (HAProxy `stick-table`, AWS
 * application-based stickiness, Envoy's stateful session filter). A session's first request is placed by
 * `inner`; the session's later requests go to the same backend while it is available. When that backend
 * is unavailable (a health hook ejected it, it was removed, or it is draining) the session is re-placed by
 * `inner` and counted in `stats.lost`: whatever state the old backend held for it is gone. A session stays
 * on its new backend when the old one comes back, as a re-issued cookie would.
 *
 * Sessions are kept by backend address, so adding or removing other backends does not move them. The
 * table is never trimmed (no idle expiry); it grows with the number of distinct sessions. Retries of a
 * request (`retry` with `previousHosts`) land on the session's backend again while it is available.
 *
 * @example
 * ```ts
 * const sticky = new StickyPolicy(new LeastRequestPolicy({ choiceCount: 2 }), { key: 'key' });
 * new LoadBalancer(net.addNode('lb'), { backends, policy: sticky });
 * // ... later: sticky.stats.lost sessions were re-placed after their backend went away.
 * ```
 */
export class StickyPolicy implements BalancerPolicy {
  /** `sticky(<inner kind>)`, e.g. `sticky(round-robin)`. */
  readonly kind: string;
  /** What identifies a session. */
  readonly by: StickySessionKey;
  /** Lifetime counts; read-only for callers. */
  readonly stats: StickyStats = { sessions: 0, lost: 0, unkeyed: 0 };
  private readonly table = new Map<string, string>();
  private indexOf = new Map<string, number>();

  /**
   * @param inner - places new sessions and re-places lost ones (a built-in policy or a custom one)
   * @param options - see {@link StickyPolicyOptions}
   */
  constructor(
    readonly inner: BalancerPolicy,
    options: StickyPolicyOptions = {},
  ) {
    const where = owner('StickyPolicy');
    if (!isObject(inner) || typeof (inner as { pick?: unknown }).pick !== 'function')
      throw invalidOption(where, 'inner', inner, 'a BalancerPolicy with a pick(ctx) method');
    checkOptions('StickyPolicy', options, OPTION_KEYS);
    this.by = checkEnum(where, 'key', options.key, KEYS, 'key');
    this.kind = `sticky(${inner.kind})`;
  }

  /** Sessions currently pinned to a backend. */
  get size(): number {
    return this.table.size;
  }

  /** The backend address `session` is pinned to, if any. */
  backendOf(session: string): string | undefined {
    return this.table.get(session);
  }

  /** Re-indexes the backends by address and rebuilds the inner policy. */
  rebuild(backends: readonly BalancerBackend[]): void {
    const indexOf = new Map<string, number>();
    for (const b of backends) indexOf.set(b.address, b.index);
    this.indexOf = indexOf;
    this.inner.rebuild?.(backends);
  }

  /** The session's backend while it is available; otherwise the inner policy's pick, remembered. */
  pick(ctx: PickContext): number {
    const session = this.by === 'key' ? ctx.request.key : ctx.request.from;
    if (session === undefined || session === '') {
      this.stats.unkeyed++;
      return this.inner.pick(ctx);
    }
    const pinned = this.table.get(session);
    if (pinned !== undefined) {
      const i = this.indexOf.get(pinned);
      if (i !== undefined && ctx.backends[i]?.address === pinned && ctx.backends[i]!.available) return i;
    }
    const index = this.inner.pick(ctx);
    if (index === -1) return -1; // nothing to place it on; keep the old pin (it counts as lost when moved)
    if (pinned === undefined) this.stats.sessions++;
    else this.stats.lost++;
    this.table.set(session, ctx.backends[index]!.address);
    return index;
  }

  /** Passes the answer on to the inner policy. */
  onResponse(backendIndex: number, latencyMs: number, ok: boolean, now: number): void {
    this.inner.onResponse?.(backendIndex, latencyMs, ok, now);
  }
}
