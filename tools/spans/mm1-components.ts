/**
 * A span of `mm1-components` for tools/instr-profile.ts: `process.argv[2]` requests through the bench's
 * M/M/1 `Service`; prints `{ units }`, the requests it made.
 */
import { buildMm1Components } from '../../bench/mm1-components.js';

const run = buildMm1Components(Number(process.argv[2] ?? 200_000))();
console.log(JSON.stringify({ units: run.requests, digest: run.digest, meanLatency: run.meanLatency }));
