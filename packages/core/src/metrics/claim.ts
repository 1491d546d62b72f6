import { invalidArgument } from '../errors.js';
import type { Gauge } from './gauge.js';

// Gauges already recorded into by a named primitive: a second primitive with the same name would
// overwrite the first one's levels.
const claimed = new WeakSet<Gauge>();

/**
 * @internal Claims the metrics of a named primitive (Resource, Store, Container): `first` is one of
 * its gauges, which a second primitive of the same kind and name in the same simulation would share.
 *
 * @example
 * ```ts
 * claimMeters('Resource', name, meters.queue);
 * ```
 */
export function claimMeters(component: string, name: string, first: Gauge): void {
  if (claimed.has(first)) {
    throw invalidArgument(
      'name',
      name,
      `a name no other ${component} of this simulation has (a named ${component} records its metrics under its name)`,
      component,
    );
  }
  claimed.add(first);
}
