// Writes schema/system.schema.json from the zod schema. Run: npx tsx --conditions @dsim/source packages/scenarios/scripts/write-system-schema.ts
import { writeFileSync } from 'node:fs';
import { systemJsonSchema } from '../src/system/json-schema.js';

const target = new URL('../schema/system.schema.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(systemJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
