/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): where the time went, by function, self time and
 * total (inclusive) time, as percentages of the samples. A docs and profiling helper, not part of the
 * library; docs/performance.md shows how to use it.
 *
 *   node --cpu-prof --cpu-prof-dir=prof packages/scenarios/bin/dsim.js run retry-storm --seed 1
 *   npx tsx tools/profile-summary.ts prof            # the largest profile in the folder
 *   npx tsx tools/profile-summary.ts prof/CPU.x.cpuprofile --top 40
 *   npx tsx tools/profile-summary.ts prof --lines 30   # also the 30 hottest source lines
 *   npx tsx tools/profile-summary.ts prof --per 600000 # also microseconds per unit (600 000 requests)
 *
 * `--lines` reads the samples' line ticks (`positionTicks`): the line each sample was on. Lines of a
 * function V8 inlined into another are listed under the outer function's name (`settle ...:4399` is a
 * line of `LogBuckets.record` inlined into `settle`), and may be approximate. A hot line that only reads
 * or increments an array slot points at cache misses rather than work.
 *
 * `--per N` divides each function's time by N units of work (the requests or events the profiled run
 * made) and prints it beside the share: where each microsecond of a unit goes. The profile's time
 * includes start-up and compilation, so take the functions of the simulation's own loop, not the root.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { flagError } from './flag-error.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
  hitCount?: number;
  positionTicks?: Array<{ line: number; ticks: number }>;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const OPTIONS = {
  top: { type: 'string', default: '30' },
  lines: { type: 'string', default: '0' },
  per: { type: 'string' },
} as const;

/** The flags, or exit 2 naming the bad one (with a "did you mean") instead of a stack trace. */
function parseFlags() {
  try {
    return parseArgs({ allowPositionals: true, options: OPTIONS });
  } catch (error) {
    process.stderr.write(`profile-summary: ${flagError(error, Object.keys(OPTIONS))}\n`);
    process.exit(2);
  }
}
// Piped into `head`, the reader may close early: stop quietly instead of with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
const { values, positionals } = parseFlags();
const top = Number(values.top);
if (!Number.isInteger(top) || top < 1) {
  process.stderr.write(`profile-summary: --top must be an integer >= 1, got ${values.top}\n`);
  process.exit(2);
}
const lines = Number(values.lines);
if (!Number.isInteger(lines) || lines < 0) {
  process.stderr.write(`profile-summary: --lines must be an integer >= 0, got ${values.lines}\n`);
  process.exit(2);
}
const per = values.per === undefined ? undefined : Number(values.per);
if (per !== undefined && !(per > 0 && Number.isFinite(per))) {
  process.stderr.write(
    `profile-summary: --per must be a number of units > 0 (the requests or events the run made), got ${values.per}\n`,
  );
  process.exit(2);
}
const target = positionals[0];
if (target === undefined) {
  process.stderr.write(
    'usage: profile-summary <profile.cpuprofile | folder of profiles> [--top N] [--lines N] [--per N]\n',
  );
  process.exit(2);
}

/** The file itself, or the largest `.cpuprofile` in a folder (the main thread's, not a loader's). */
function profileFile(path: string): string {
  if (!existsSync(path)) {
    process.stderr.write(`profile-summary: ${path} does not exist; give a .cpuprofile file or its folder\n`);
    process.exit(2);
  }
  if (!statSync(path).isDirectory()) return path;
  const files = readdirSync(path)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(path, f))
    .sort((a, b) => statSync(b).size - statSync(a).size);
  if (files.length === 0) {
    process.stderr.write(`profile-summary: no .cpuprofile in ${path}\n`);
    process.exit(2);
  }
  return files[0]!;
}

const file = profileFile(target);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

/** Function name and where it is: the last two path segments and the line. */
const where = (n: ProfileNode): string => {
  const { functionName, url, lineNumber } = n.callFrame;
  const path = url.split('/').slice(-2).join('/');
  return `${functionName || '(anonymous)'} ${path}${path === '' ? '' : `:${lineNumber + 1}`}`;
};

const self = new Map<string, number>();
const total = new Map<string, number>();
let all = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0;
  all += dt;
  let id: number | undefined = profile.samples[i]!;
  const leaf = where(byId.get(id)!);
  self.set(leaf, (self.get(leaf) ?? 0) + dt);
  // Each function once per sample, however deep it recurses.
  const seen = new Set<string>();
  while (id !== undefined) {
    const key = where(byId.get(id)!);
    if (!seen.has(key)) {
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + dt);
    }
    id = parent.get(id);
  }
}

// Time deltas are microseconds; with --per, each share is followed by its microseconds per unit.
const pct = (t: number): string =>
  `${((100 * t) / all).toFixed(1).padStart(5)}%` +
  (per === undefined ? '' : `  ${(t / per).toFixed(3).padStart(8)} µs`);
const perUnit = per === undefined ? '' : `, ${(all / per).toFixed(3)} µs per unit over ${per} units`;
process.stdout.write(`${basename(file)}: ${(all / 1e6).toFixed(2)} s sampled${perUnit}\n\nself time\n`);
for (const [key, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top))
  process.stdout.write(`${pct(t)}  ${key}\n`);
process.stdout.write('\ntotal time (the function and what it calls)\n');
for (const [key, t] of [...total].sort((a, b) => b[1] - a[1]).slice(0, top))
  process.stdout.write(`${pct(t)}  ${key}\n`);

if (lines > 0) {
  // Line ticks are sample counts; weigh them as a share of all samples (hitCount), not of time.
  const ticks = new Map<string, { ticks: number; url: string; line: number; fn: string }>();
  let hits = 0;
  for (const n of profile.nodes) {
    hits += n.hitCount ?? 0;
    for (const t of n.positionTicks ?? []) {
      const key = `${n.callFrame.url}:${t.line} ${n.callFrame.functionName}`;
      const entry = ticks.get(key) ?? {
        ticks: 0,
        url: n.callFrame.url,
        line: t.line,
        fn: n.callFrame.functionName,
      };
      entry.ticks += t.ticks;
      ticks.set(key, entry);
    }
  }
  const sources = new Map<string, string[] | null>();
  const text = (url: string, line: number): string => {
    if (!sources.has(url)) {
      const path = url.startsWith('file://') ? new URL(url).pathname : url;
      sources.set(url, existsSync(path) ? readFileSync(path, 'utf8').split('\n') : null);
    }
    return sources.get(url)?.[line - 1]?.trim().slice(0, 100) ?? '';
  };
  process.stdout.write(
    '\nhottest lines (share of all samples; inlined functions listed under the outer function)\n',
  );
  for (const e of [...ticks.values()].sort((a, b) => b.ticks - a.ticks).slice(0, lines)) {
    const path = e.url.split('/').slice(-2).join('/');
    const share = `${((100 * e.ticks) / Math.max(hits, 1)).toFixed(2).padStart(6)}%`;
    process.stdout.write(`${share}  ${e.fn || '(anonymous)'} ${path}:${e.line}  ${text(e.url, e.line)}\n`);
  }
}
