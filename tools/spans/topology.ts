/**
 * A span of `topology-hour`'s 20-node topology for tools/instr-profile.ts: `process.argv[2]` simulated
 * seconds; prints `{ units }`, the requests it made.
 */
import { buildTopology } from '../../bench/topology.js';

const seconds = Number(process.argv[2] ?? 3);
const run = buildTopology(seconds)();
console.log(JSON.stringify({ units: run.requests, digest: run.digest, meanLatency: run.meanLatency }));
