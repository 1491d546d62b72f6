/**
 * Micro-measurement of histogram recording cost, run by hand (not part of the test suite):
 *
 *   node --import tsx packages/core/test/latency-histogram.measure.ts [OTHER_SRC]
 *
 * Records 10^7 lognormal latencies (median 20 ms, heavy tail, whole µs) into a fresh
 * LatencyHistogram, a metrics Histogram and a bare hdr-histogram-js histogram, 7 rounds each,
 * interleaved, and prints the median ns per record. OTHER_SRC, a directory holding another version of
 * packages/core/src (for instance after `git archive HEAD packages/core/src | tar -x -C /tmp/old`,
 * /tmp/old/packages/core/src), adds that version's LatencyHistogram and Histogram for comparison.
 */
import * as hdr from 'hdr-histogram-js';
import { IntervalGrid } from '../src/metrics/grid.js';
import { Histogram } from '../src/metrics/histogram.js';
import { lognormal } from '../src/random/continuous.js';
import { Simulation } from '../src/simulation.js';
import { LatencyHistogram } from '../src/stats/histogram.js';

const N = 10_000_000;
const ROUNDS = 7;

interface Recorder {
  record(ms: number): void;
}
interface Clock {
  now: number;
}
type Loop = (r: Recorder, clock: Clock, xs: Float64Array, hrtime: () => bigint) => number;

/** A subject: builds a fresh recorder (and the clock it reads) per round. */
interface Subject {
  name: string;
  make: (clock: Clock) => Recorder;
  /** Moves the clock across a 1 s interval every 10^6 records (metrics histograms). */
  ticks: boolean;
}

function values(): Float64Array {
  const rng = new Simulation({ seed: 'measure' }).rng('latency');
  const dist = lognormal({ mu: Math.log(20), sigma: 1.2 });
  const out = new Float64Array(N);
  for (let i = 0; i < N; i++) out[i] = Math.round(dist.sample(rng) * 1000) / 1000;
  return out;
}

/**
 * One loop per subject, compiled apart (`new Function`), so each `record` call site stays monomorphic
 * and inlinable as in real use, instead of one shared loop whose call site sees every class.
 */
function loop(name: string, ticks: boolean): Loop {
  const tick = ticks ? 'clock.now = i * 0.001;' : '';
  // The name makes each source unique: V8 caches compiled code by source text.
  return new Function(
    'r',
    'clock',
    'xs',
    'hrtime',
    `// ${name}
     const t0 = hrtime();
     for (let i = 0; i < xs.length; i++) { ${tick} r.record(xs[i]); }
     return Number(hrtime() - t0) / xs.length;`,
  ) as Loop;
}

function hdrRecorder(): Recorder {
  const h = hdr.build({ numberOfSignificantValueDigits: 3, bitBucketSize: 64 });
  return { record: (ms: number) => h.recordValue(Math.round(ms * 1000)) };
}

async function main(): Promise<void> {
  const xs = values();
  const subjects: Subject[] = [
    { name: 'hdr-histogram-js recordValue', make: hdrRecorder, ticks: false },
    { name: 'LatencyHistogram', make: () => new LatencyHistogram(), ticks: false },
    {
      name: 'metrics Histogram',
      make: (clock) => new Histogram('node', 'latency', clock, new IntervalGrid(0, 1000)),
      ticks: true,
    },
  ];
  const other = process.argv[2];
  if (other !== undefined) {
    const stats = await import(`${other}/stats/histogram.ts`);
    const metrics = await import(`${other}/metrics/histogram.ts`);
    subjects.push({ name: 'other LatencyHistogram', make: () => new stats.LatencyHistogram(), ticks: false });
    subjects.push({
      name: 'other metrics Histogram',
      make: (clock) => new metrics.Histogram('node', 'latency', clock, new IntervalGrid(0, 1000)),
      ticks: true,
    });
  }
  const loops = subjects.map((s) => loop(s.name, s.ticks));
  const ns = subjects.map((): number[] => []);
  for (let round = 0; round < ROUNDS; round++) {
    subjects.forEach((s, k) => {
      const clock = { now: 0 };
      ns[k]!.push(loops[k]!(s.make(clock), clock, xs, process.hrtime.bigint));
    });
  }
  subjects.forEach((s, k) => {
    const sorted = [...ns[k]!].sort((a, b) => a - b);
    const median = sorted[sorted.length >> 1]!;
    const line = `${s.name.padEnd(32)} ${median.toFixed(1).padStart(6)} ns/record`;
    console.log(`${line}  (min ${sorted[0]!.toFixed(1)}, max ${sorted[sorted.length - 1]!.toFixed(1)})`);
  });
}

await main();
