import { z } from 'zod';
import { backoffSchema } from './backoff-schema.js';
import { distributionSchema, durationSchema } from './distributions.js';
import { rateLimitSchema } from './rate-limit-schema.js';
import { systemSchema } from './schema.js';

/** The schemas written once under `$defs`, by name: used in many places, and large or worth a name. */
function named() {
  const registry = z.registry<{ id: string }>();
  registry.add(durationSchema, { id: 'duration' });
  registry.add(distributionSchema, { id: 'distribution' });
  registry.add(backoffSchema, { id: 'backoff' });
  registry.add(rateLimitSchema, { id: 'rateLimit' });
  return registry;
}

/**
 * The JSON Schema (draft 2020-12) of a system description, generated from the zod schema, with the
 * schemas used all over it (a duration, a distribution, a backoff, a rate limit) written once under
 * `$defs` by name.
 * Cross-node rules (references, cycles) are not expressible in it; `validateSystem` checks them.
 *
 * @example
 * ```ts
 * writeFileSync('system.schema.json', `${JSON.stringify(systemJsonSchema(), null, 2)}\n`);
 * ```
 */
export function systemJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(systemSchema, { target: 'draft-2020-12', unrepresentable: 'any', metadata: named() }),
    title: 'dsim system description',
  };
}
