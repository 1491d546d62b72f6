import { Simulation } from '@dsim/core';
let seedState = 12345;
function rnd() { seedState = (seedState * 1103515245 + 12345) & 0x7fffffff; return seedState / 0x80000000; }
for (let rep = 0; rep < 3; rep++) {
const s2 = new Simulation({ seed: 2 });
for (let p = 0; p < 1000; p++) s2.process(function* () { for (let i = 0; i < 1000; i++) yield s2.timeout(-Math.log(1 - rnd())); });
const t0 = performance.now(); s2.run(); const dt = (performance.now() - t0) / 1000;
console.log('timeouts', s2.eventCount, (s2.eventCount / dt / 1e6).toFixed(2), 'M events/s');
}
