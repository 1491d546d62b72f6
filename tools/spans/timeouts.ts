/**
 * A span of `timeouts` for tools/instr-profile.ts: 1000 processes each waiting `process.argv[2]`
 * exponential(mean 1) timeouts; prints `{ units }`, the events processed.
 */
import { exponential, Simulation } from '@dsim/core';

const perProcess = Number(process.argv[2] ?? 300);
const sim = new Simulation({ seed: 1 });
const d = exponential({ mean: 1 });
const rng = sim.rng('bench/timeouts');
for (let p = 0; p < 1000; p++) {
  sim.process(function* () {
    for (let i = 0; i < perProcess; i++) yield sim.timeout(d.sample(rng));
  });
}
sim.run();
console.log(JSON.stringify({ units: sim.eventCount, digest: sim.digest() }));
