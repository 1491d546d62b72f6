/**
 * Measures the engine's event queue (`EventQueue`) in hold loops against a bare fastpriorityqueue over
 * the same struct-of-arrays keys (the shape of `heap-ceiling` in bench/run.ts). A docs and tuning
 * helper, not part of the library; docs/performance.md quotes its output.
 *
 * A hold operation takes the least entry and puts one back (the engine's pattern: peek, pop, free,
 * push). Delays come from seeded streams drawn before the clock starts, so every queue sees the same
 * schedule and the figures are the queue's cost alone. Each case runs three times; the best is printed.
 *
 *   node_modules/.bin/tsx --conditions @dsim/source tools/queue-bench.ts
 *   node_modules/.bin/tsx --conditions @dsim/source tools/queue-bench.ts --baseline ./some-queue.ts
 *
 * `--baseline` loads another module exporting `EventQueue` (for example a copy of an earlier version)
 * and runs the same cases on it, for an A/B on a noisy machine.
 *
 * Every (case, queue) pair runs in a fresh child process: fastpriorityqueue is one class, and sharing
 * it between queues with different comparators in one process makes its call sites polymorphic and
 * slows every heap down, which would flatter the calendar queue.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { exponential, type RandomStream, Simulation } from '@dsim/core';
import FastPriorityQueue from 'fastpriorityqueue';
import { EventQueue } from '../packages/core/src/event-queue.js';

interface Queue {
  time: Float64Array;
  fn: Array<((arg: any) => void) | null>;
  generation: Uint32Array;
  readonly size: number;
  push(t: number, order: number, fn: (arg: any) => void, arg: unknown, kind: number, tag: number): number;
  peek(): number;
  pop(slot: number): void;
  free(slot: number): void;
  cancel(slot: number, generation: number): void;
}
type QueueClass = new () => Queue;

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' },
    repeat: { type: 'string', default: '3' },
    only: { type: 'string', multiple: true },
    child: { type: 'string' },
  },
});
const repeat = Number(values.repeat);

const NORMAL_ORDER = 513 * 2 ** 43;
const noop = (): void => {};

/** `count` draws from a named seeded stream. */
function draws(seed: string, count: number, sample: (rng: RandomStream) => number): Float64Array {
  const sim = new Simulation({ seed: 1 });
  const rng = sim.rng(seed);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = sample(rng);
  return out;
}

const DRAWS = 1 << 20;
const MASK = DRAWS - 1;
const exp1 = exponential({ mean: 1 });
const expDelays = draws('queue-bench/exp', DRAWS, (rng) => exp1.sample(rng));
const uniforms = draws('queue-bench/uniform', DRAWS, (rng) => rng.next());

/** Hold loop on an engine queue: `n` entries, exponential(mean 1) delays, `ops` holds. */
function holdQueue(Q: QueueClass, n: number, ops: number): number {
  const q = new Q();
  let seq = 0;
  for (let i = 0; i < n; i++) q.push(expDelays[i & MASK]!, NORMAL_ORDER + seq++, noop, null, 1, 0);
  let k = n;
  const t0 = performance.now();
  for (let i = 0; i < ops; i++) {
    const slot = q.peek();
    q.pop(slot);
    const t = q.time[slot]!;
    q.free(slot);
    q.push(t + expDelays[k++ & MASK]!, NORMAL_ORDER + seq++, noop, null, 1, 0);
  }
  return ((performance.now() - t0) * 1e6) / ops;
}

/** The same hold loop as `heap-ceiling`: a bare fastpriorityqueue of slots, the top replaced in place. */
function holdBareHeap(n: number, ops: number): number {
  const time = new Float64Array(n);
  const order = new Float64Array(n);
  const heap = new FastPriorityQueue<number>(
    (a, b) => time[a]! < time[b]! || (time[a] === time[b] && order[a]! < order[b]!),
  );
  let seq = 0;
  for (let p = 0; p < n; p++) {
    time[p] = expDelays[p & MASK]!;
    order[p] = NORMAL_ORDER + seq++;
    heap.add(p);
  }
  let k = n;
  const t0 = performance.now();
  for (let i = 0; i < ops; i++) {
    const slot = heap.peek()!;
    time[slot] = time[slot]! + expDelays[k++ & MASK]!;
    order[slot] = NORMAL_ORDER + seq++;
    heap.replaceTop(slot);
  }
  return ((performance.now() - t0) * 1e6) / ops;
}

/**
 * Case (c): 100 near entries (delays uniform in [0.2, 2] ms) and about 10 000 far ones 30 000 ms out,
 * like RPC timeout timers: a near event starts a new timer now and then and cancels three live ones,
 * so most timers are cancelled and come due as dead entries. Counts every taken entry as an operation.
 */
function farQueue(Q: QueueClass, ops: number): number {
  const q = new Q();
  const FAR = 30_000;
  // Timer starts per near event so that about 10 000 timers are queued: rate x 30 000 ms = 10 000.
  const pFar = 10_000 / FAR / (100 / 1.1);
  let seq = 0;
  const live: number[] = []; // slot * 2^32 + generation of live timers
  const far = (): void => {};
  for (let i = 0; i < 10_000; i++) {
    const s = q.push((FAR * (i + 0.5)) / 10_000, NORMAL_ORDER + seq++, far, null, 3, 0);
    live.push(s * 2 ** 32 + q.generation[s]!);
  }
  for (let i = 0; i < 100; i++) q.push(0.2 + 1.8 * uniforms[i]!, NORMAL_ORDER + seq++, noop, null, 1, 0);
  let k = 100;
  const t0 = performance.now();
  for (let i = 0; i < ops; i++) {
    const slot = q.peek();
    q.pop(slot);
    const t = q.time[slot]!;
    const fn = q.fn[slot];
    q.free(slot);
    if (fn !== noop) continue; // a timer (cancelled or not) came due
    q.push(t + 0.2 + 1.8 * uniforms[k++ & MASK]!, NORMAL_ORDER + seq++, noop, null, 1, 0);
    if (uniforms[k++ & MASK]! < pFar) {
      for (let c = 0; c < 3 && live.length > 0; c++) {
        const j = Math.floor(uniforms[k++ & MASK]! * live.length);
        const h = live[j]!;
        live[j] = live[live.length - 1]!;
        live.pop();
        q.cancel(Math.floor(h / 2 ** 32), h % 2 ** 32);
      }
      const s = q.push(t + FAR, NORMAL_ORDER + seq++, far, null, 3, 0);
      live.push(s * 2 ** 32 + q.generation[s]!);
    }
  }
  return ((performance.now() - t0) * 1e6) / ops;
}

/** Case (c) on a bare fastpriorityqueue: the same schedule, cancellation as a flag. */
function farBareHeap(ops: number): number {
  const cap = 1 << 16;
  const time = new Float64Array(cap);
  const order = new Float64Array(cap);
  const isFar = new Uint8Array(cap);
  const free: number[] = [];
  let next = 0;
  const heap = new FastPriorityQueue<number>(
    (a, b) => time[a]! < time[b]! || (time[a] === time[b] && order[a]! < order[b]!),
  );
  const FAR = 30_000;
  const pFar = 10_000 / FAR / (100 / 1.1);
  let seq = 0;
  const add = (t: number, f: number): number => {
    const s = free.length > 0 ? free.pop()! : next++;
    time[s] = t;
    order[s] = NORMAL_ORDER + seq++;
    isFar[s] = f;
    heap.add(s);
    return s;
  };
  const live: number[] = [];
  for (let i = 0; i < 10_000; i++) live.push(add((FAR * (i + 0.5)) / 10_000, 1));
  for (let i = 0; i < 100; i++) add(0.2 + 1.8 * uniforms[i]!, 0);
  let k = 100;
  const t0 = performance.now();
  for (let i = 0; i < ops; i++) {
    const slot = heap.poll()!;
    const t = time[slot]!;
    free.push(slot);
    if (isFar[slot] !== 0) continue;
    add(t + 0.2 + 1.8 * uniforms[k++ & MASK]!, 0);
    if (uniforms[k++ & MASK]! < pFar) {
      for (let c = 0; c < 3 && live.length > 0; c++) {
        const j = Math.floor(uniforms[k++ & MASK]! * live.length);
        live[j] = live[live.length - 1]!;
        live.pop();
      }
      live.push(add(t + FAR, 1));
    }
  }
  return ((performance.now() - t0) * 1e6) / ops;
}

/** Case (d): 1000 entries whose delay scale changes: mean 0.01 ms, then 1000 ms, then 0.01 ms again. */
function scaleChange(Q: QueueClass, ops: number): number {
  const q = new Q();
  let seq = 0;
  for (let i = 0; i < 1000; i++) q.push(0.01 * expDelays[i]!, NORMAL_ORDER + seq++, noop, null, 1, 0);
  let k = 1000;
  const t0 = performance.now();
  for (let i = 0; i < ops; i++) {
    const phase = Math.floor((3 * i) / ops);
    const mean = phase === 1 ? 1000 : 0.01;
    const slot = q.peek();
    q.pop(slot);
    const t = q.time[slot]!;
    q.free(slot);
    q.push(t + mean * expDelays[k++ & MASK]!, NORMAL_ORDER + seq++, noop, null, 1, 0);
  }
  return ((performance.now() - t0) * 1e6) / ops;
}

/**
 * Case (e): bursts at one instant: every 1 ms (on average) 300 entries due at the same time, at four
 * priorities, interleaved; the queue is drained between bursts down to about 1000 background holds.
 */
function bursts(Q: QueueClass, ops: number): number {
  const q = new Q();
  let seq = 0;
  for (let i = 0; i < 1000; i++) q.push(expDelays[i]!, NORMAL_ORDER + seq++, noop, null, 1, 0);
  let k = 1000;
  const burst = (): void => {};
  let done = 0;
  const t0 = performance.now();
  while (done < ops) {
    const slot = q.peek();
    q.pop(slot);
    const t = q.time[slot]!;
    const fn = q.fn[slot];
    q.free(slot);
    done++;
    if (fn !== noop) continue;
    q.push(t + expDelays[k++ & MASK]!, NORMAL_ORDER + seq++, noop, null, 1, 0);
    if (uniforms[k++ & MASK]! < 0.001) {
      const at = t + Math.floor(uniforms[k++ & MASK]! * 4) / 4;
      for (let b = 0; b < 300; b++) q.push(at, (510 + (b % 4)) * 2 ** 43 + seq++, burst, null, 2, 0);
    }
  }
  return ((performance.now() - t0) * 1e6) / done;
}

/**
 * Case (g): 10 000 entries in tight clusters (25 entries within 1 ns) 100 ms apart, each taken entry
 * put back one cycle (40 s) later: the earliest gaps are tiny, the gaps that matter are long.
 */
function clusters(Q: QueueClass, ops: number): number {
  const q = new Q();
  let seq = 0;
  let k = 0;
  for (let i = 0; i < 10_000; i++)
    q.push(Math.floor(i / 25) * 100 + 1e-6 * uniforms[k++ & MASK]!, NORMAL_ORDER + seq++, noop, null, 1, 0);
  const t0 = performance.now();
  for (let i = 0; i < ops; i++) {
    const slot = q.peek();
    q.pop(slot);
    const t = q.time[slot]!;
    q.free(slot);
    q.push(
      Math.round(t / 100) * 100 + 40_000 + 1e-6 * uniforms[k++ & MASK]!,
      NORMAL_ORDER + seq++,
      noop,
      null,
      1,
      0,
    );
  }
  return ((performance.now() - t0) * 1e6) / ops;
}

/** Case (f): grow from 0 to 100 000 entries (holds in between), then shrink back to 0. */
function growShrink(Q: QueueClass): number {
  const q = new Q();
  let seq = 0;
  let k = 0;
  let ops = 0;
  const t0 = performance.now();
  let now = 0;
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 100_000; i++) {
      q.push(now + 100 * expDelays[k++ & MASK]!, NORMAL_ORDER + seq++, noop, null, 1, 0);
      const slot = q.peek();
      q.pop(slot);
      now = q.time[slot]!;
      q.free(slot);
      q.push(now + 100 * expDelays[k++ & MASK]!, NORMAL_ORDER + seq++, noop, null, 1, 0);
      ops += 2;
    }
    while (q.size > 0) {
      const slot = q.peek();
      q.pop(slot);
      now = q.time[slot]!;
      q.free(slot);
      ops++;
    }
  }
  return ((performance.now() - t0) * 1e6) / ops;
}

function best(run: () => number): number {
  let min = Infinity;
  for (let i = 0; i < repeat; i++) min = Math.min(min, run());
  return min;
}

const queues: Array<[string, QueueClass]> = [['EventQueue', EventQueue as unknown as QueueClass]];
if (values.baseline !== undefined) {
  const mod = await import(pathToFileURL(resolve(values.baseline)).href);
  queues.push(['baseline', mod.EventQueue as QueueClass]);
}

const cases: Array<[string, Array<[string, () => number]>]> = [
  ...[150, 1000, 10_000].map(
    (n) =>
      [
        `hold ${n}`,
        [
          ...queues.map(([name, Q]) => [name, () => holdQueue(Q, n, 3_000_000)] as [string, () => number]),
          ['bare fastpriorityqueue', () => holdBareHeap(n, 3_000_000)] as [string, () => number],
        ],
      ] as [string, Array<[string, () => number]>],
  ),
  [
    '(c) 10 000 timers 30 s out + 100 near',
    [
      ...queues.map(([name, Q]) => [name, () => farQueue(Q, 3_000_000)] as [string, () => number]),
      ['bare fastpriorityqueue', () => farBareHeap(3_000_000)],
    ],
  ],
  [
    '(d) delay scale 0.01 -> 1000 -> 0.01 ms',
    queues.map(([name, Q]) => [name, () => scaleChange(Q, 3_000_000)]),
  ],
  [
    '(e) bursts of 300 at one instant, 4 priorities',
    queues.map(([name, Q]) => [name, () => bursts(Q, 3_000_000)]),
  ],
  ['(f) grow 0 -> 100 000 -> 0, twice', queues.map(([name, Q]) => [name, () => growShrink(Q)])],
  [
    '(g) clusters of 25 within 1 ns, 100 ms apart',
    queues.map(([name, Q]) => [name, () => clusters(Q, 1_000_000)]),
  ],
];

if (values.child !== undefined) {
  // In a child: run one (case, queue) pair and print its best time.
  const [c, q] = values.child.split(':').map(Number);
  console.log(best(cases[c!]![1][q!]![1]).toFixed(1));
} else {
  for (const [c, [label, runs]] of cases.entries()) {
    if (values.only !== undefined && !values.only.some((o) => label.includes(o))) continue;
    for (const [q, [name]] of runs.entries()) {
      const args = [
        ...process.execArgv,
        process.argv[1]!,
        '--child',
        `${c}:${q}`,
        '--repeat',
        String(repeat),
      ];
      if (values.baseline !== undefined) args.push('--baseline', values.baseline);
      const child = spawnSync(process.execPath, args, { encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`${label} / ${name} failed:\n${child.stderr}`);
      console.log(`${label.padEnd(48)} ${name.padEnd(24)} ${child.stdout.trim().padStart(7)} ns/op`);
    }
  }
}
