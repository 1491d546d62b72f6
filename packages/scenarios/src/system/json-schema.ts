import { z } from 'zod';
import { systemSchema } from './schema.js';

/**
 * The JSON Schema (draft 2020-12) of a system description, generated from the zod schema. Cross-node
 * rules (references, cycles) are not expressible in it; `validateSystem` checks them.
 *
 * @example
 * ```ts
 * writeFileSync('system.schema.json', `${JSON.stringify(systemJsonSchema(), null, 2)}\n`);
 * ```
 */
export function systemJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(systemSchema, { target: 'draft-2020-12', unrepresentable: 'any' }),
    title: 'dsim system description',
  };
}
