import type { Criticality } from '@dsim/components';

/**
 * The criticality of the requests in flight in one compiled system, carried with each request's
 * payload as Stubby and gRPC carry it in the request's context: a clients node tags what it sends,
 * balancers, gateways (a request without a body, or its body), mesh proxies and services' downstream
 * calls pass the payload on, and a `concurrencyLimit` with `criticality` reads it. A payload that is a
 * primitive (a request index, a key) is sent boxed (`Object(value)`), whose `String()` is the same text,
 * so cache-aside keys and record keys are unchanged. A WeakMap: a finished request's tag goes with it.
 *
 * @example
 * ```ts
 * const tags = new CriticalityTags();
 * const payload = tags.carry('k42', 'SHEDDABLE');
 * tags.of(payload); // 'SHEDDABLE'
 * String(payload); // 'k42'
 * ```
 */
export class CriticalityTags {
  private readonly tags = new WeakMap<object, Criticality>();

  /** The payload to send for `payload` at `level`: itself (tagged) or, for a primitive, its box. */
  carry<T>(payload: T, level: Criticality | undefined): T {
    if (level === undefined) return payload;
    const carrier = (typeof payload === 'object' && payload !== null ? payload : Object(payload)) as object;
    this.tags.set(carrier, level);
    return carrier as T;
  }

  /** The level a request's payload carries; undefined (the limiter's `CRITICAL`) for an untagged one. */
  of(payload: unknown): Criticality | undefined {
    return typeof payload === 'object' && payload !== null ? this.tags.get(payload) : undefined;
  }
}
