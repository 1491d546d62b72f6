import { MAGLEV_DEFAULT_TABLE_SIZE, MaglevHash } from '../../hashing/maglev.js';
import type { KeyPlacement } from '../../hashing/types.js';
import { HashPolicy } from './hash-policy.js';

/**
 * Options of the `maglev` policy (Envoy's `MAGLEV`).
 *
 * @example
 * ```ts
 * const spec: MaglevPolicySpec = { kind: 'maglev', tableSize: 65537 };
 * ```
 */
export interface MaglevPolicySpec {
  kind: 'maglev';
  /** Lookup-table entries: a prime in [2, 5000011], above the backend count. Envoy's `table_size`. @default 65537 */
  tableSize?: number;
}

/**
 * Maglev consistent hashing (Eisenbud et al., NSDI '16; Envoy's `MAGLEV`,
 * https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/load_balancers#maglev),
 * keyed by the request's `key`, over {@link MaglevHash}. Near-perfect balance and an O(1) lookup; a
 * backend leaving moves its own keys plus a few others (Envoy: "approximately double the keys will move"
 * compared with a ring).
 *
 * @example
 * ```ts
 * new LoadBalancer(net.addNode('lb'), { backends, policy: { kind: 'maglev' } });
 * ```
 */
export class MaglevPolicy extends HashPolicy {
  readonly kind = 'maglev';

  /** @param tableSize - validated by {@link MaglevHash} @default 65537 */
  constructor(readonly tableSize = MAGLEV_DEFAULT_TABLE_SIZE) {
    super();
  }

  /** An empty Maglev table of `tableSize` entries. */
  protected create(): KeyPlacement {
    return new MaglevHash({ tableSize: this.tableSize });
  }
}
