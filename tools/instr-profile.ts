/**
 * Where a workload's instructions go at steady state, by JavaScript function and by source line, counted
 * exactly rather than sampled. A profiling helper, not part of the library; docs/performance.md shows how
 * to use it.
 *
 *   npx tsx tools/instr-profile.ts --workload topology                 # 3 and 9 simulated seconds
 *   npx tsx tools/instr-profile.ts --workload mm1-components --lines 40
 *   npx tsx tools/instr-profile.ts --workload timeouts --function run   # one function's lines
 *   npx tsx tools/instr-profile.ts --script my-span.ts --short 1000 --long 3000
 *   npx tsx tools/instr-profile.ts --workload topology --event D1mr     # first-level data cache misses
 *   npx tsx tools/instr-profile.ts --workload topology --event DLmw --last-level 524288,8,64
 *   npx tsx tools/instr-profile.ts --workload topology --v8=--max-inlined-bytecode-size-cumulative=1840
 *
 * It bundles a span script (from sources, with esbuild), runs it twice under Valgrind's callgrind with
 * V8 single-threaded (compilation and collection at the same points in every run), once for a short
 * span and once for a long one, and divides the difference by the extra units of work: start-up and
 * warm-up cancel out. V8's `--perf-prof` writes a jitdump file naming each compiled function's address
 * range and the source line of each instruction range, so callgrind's per-instruction counts can be
 * given to functions and lines of the bundle. A function's count includes what V8 inlined into it; the
 * line of an inlined instruction is its own source line, listed under the outer function.
 *
 * A span script reads its span from `process.argv[2]` and prints one JSON line with a `units` field
 * (requests, events: what the span did). Needs Debian's `valgrind`; each run takes a minute or two.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { didYouMean } from '@dsim/core';
import { build } from 'esbuild';
import { flagError } from './flag-error.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

/** Built-in span scripts and the spans that are past the JIT's warm-up for each. */
const WORKLOADS: Record<string, { script: string; short: string; long: string; unit: string }> = {
  topology: { script: 'spans/topology.ts', short: '3', long: '9', unit: 'request' },
  'mm1-components': { script: 'spans/mm1-components.ts', short: '200000', long: '600000', unit: 'request' },
  timeouts: { script: 'spans/timeouts.ts', short: '300', long: '1000', unit: 'event' },
};

const OPTIONS = {
  workload: { type: 'string' },
  script: { type: 'string' },
  short: { type: 'string' },
  long: { type: 'string' },
  top: { type: 'string', default: '25' },
  lines: { type: 'string', default: '30' },
  function: { type: 'string' },
  event: { type: 'string', default: 'Ir' },
  'last-level': { type: 'string' },
  v8: { type: 'string', multiple: true },
} as const;

/**
 * What callgrind can count, as it names them. Ir (instructions) needs no simulation; the cache events
 * turn on its cache model (first level and last level, sized like the host's), the branch events its
 * branch predictor model. Both models are approximations: they rank code by misses, they do not time it.
 */
const EVENTS: Record<string, string> = {
  Ir: 'instructions',
  Dr: 'data reads',
  Dw: 'data writes',
  I1mr: 'first-level instruction cache misses',
  D1mr: 'first-level data cache read misses',
  D1mw: 'first-level data cache write misses',
  ILmr: 'last-level instruction cache misses',
  DLmr: 'last-level data cache read misses',
  DLmw: 'last-level data cache write misses',
  Bc: 'conditional branches',
  Bcm: 'mispredicted conditional branches',
  Bi: 'indirect branches',
  Bim: 'mispredicted indirect branches',
};

function fail(message: string): never {
  process.stderr.write(`instr-profile: ${message}\n`);
  process.exit(2);
}

function parseFlags() {
  try {
    return parseArgs({ options: OPTIONS }).values;
  } catch (error) {
    fail(flagError(error, Object.keys(OPTIONS)));
  }
}

function count(flag: string, value: string | undefined, least: number): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < least)
    fail(`--${flag} must be an integer >= ${least}, got ${String(value)}`);
  return n;
}

const values = parseFlags();
let script: string;
let short: string | undefined = values.short;
let long: string | undefined = values.long;
let unit = 'unit';
if (values.workload !== undefined) {
  const known = WORKLOADS[values.workload];
  if (known === undefined) {
    const near = didYouMean(values.workload, Object.keys(WORKLOADS));
    fail(
      `unknown --workload "${values.workload}"${near === undefined ? '' : ` (did you mean "${near}"?)`}; known: ${Object.keys(WORKLOADS).join(', ')}`,
    );
  }
  if (values.script !== undefined) fail('give --workload or --script, not both');
  script = join(here, known.script);
  short ??= known.short;
  long ??= known.long;
  unit = known.unit;
} else if (values.script !== undefined) {
  script = resolve(values.script);
  if (!existsSync(script)) fail(`--script ${values.script}: no such file (${script})`);
  if (short === undefined || long === undefined) fail('--script needs --short and --long spans');
} else fail(`give --workload (${Object.keys(WORKLOADS).join(', ')}) or --script with --short and --long`);
const event = values.event;
if (EVENTS[event] === undefined) {
  const near = didYouMean(event, Object.keys(EVENTS));
  fail(
    `unknown --event "${event}"${near === undefined ? '' : ` (did you mean "${near}"?)`}; known: ${Object.keys(EVENTS).join(', ')}`,
  );
}
const eventName = EVENTS[event]!;
// V8 flags for the profiled node (one per --v8), to count what a V8 setting changes.
const v8Flags = values.v8 ?? [];
for (const flag of v8Flags)
  if (!/^--[a-z][a-z0-9-]*(=\S+)?$/.test(flag))
    fail(`--v8 takes one V8 flag such as --max-inlined-bytecode-size-cumulative=1840, got "${flag}"`);
const lastLevel = values['last-level'];
if (lastLevel !== undefined && !/^\d+,\d+,\d+$/.test(lastLevel))
  fail(
    `--last-level must be size,ways,line in bytes (such as 524288,8,64 for a 512 KB second level), got ${lastLevel}`,
  );
const simulate = [
  ...(/^(I1|D1|IL|DL)m|^D[rw]$/.test(event) ? ['--cache-sim=yes'] : []),
  // Valgrind models two cache levels; without this its last level is the host's largest cache.
  ...(lastLevel !== undefined ? [`--LL=${lastLevel}`] : []),
  ...(/^B/.test(event) ? ['--branch-sim=yes'] : []),
];
const top = count('top', values.top, 1);
const lineCount = count('lines', values.lines, 0);

/** A compiled function's code range, and the source line of each instruction range in it. */
interface Code {
  start: number;
  end: number;
  name: string;
  /** Instruction addresses, ascending, and the bundle line each one starts. */
  addresses: number[];
  lines: number[];
}

/** Reads a V8 jitdump file (the perf tool's format): code loads and their line tables. */
function readJitdump(path: string): Code[] {
  const data = readFileSync(path);
  const codes: Code[] = [];
  const tables = new Map<number, Array<[number, number]>>();
  let at = 40; // the file header
  while (at + 16 <= data.length) {
    const id = data.readUInt32LE(at);
    const size = data.readUInt32LE(at + 4);
    const body = at + 16;
    if (id === 0) {
      // Code load: pid, tid, vma, code address, code size, code index, name, code bytes.
      const address = Number(data.readBigUInt64LE(body + 16));
      const length = Number(data.readBigUInt64LE(body + 24));
      const nameStart = body + 40;
      const name = data.toString('utf8', nameStart, data.indexOf(0, nameStart));
      const table = tables.get(address) ?? [];
      tables.delete(address);
      table.sort((a, b) => a[0] - b[0]);
      codes.push({
        start: address,
        end: address + length,
        name,
        addresses: table.map((e) => e[0]),
        lines: table.map((e) => e[1]),
      });
    } else if (id === 2) {
      // Debug info, written just before its code load: (address, line, column, file name) entries.
      const address = Number(data.readBigUInt64LE(body));
      const entries = Number(data.readBigUInt64LE(body + 8));
      const table: Array<[number, number]> = [];
      let p = body + 16;
      for (let i = 0; i < entries; i++) {
        table.push([Number(data.readBigUInt64LE(p)), data.readUInt32LE(p + 8)]);
        p = data.indexOf(0, p + 16) + 1;
      }
      tables.set(address, table);
    }
    at += size;
  }
  return codes.sort((a, b) => a.start - b.start);
}

/** The code holding `address` (binary search), or undefined for native code. */
function codeAt(codes: Code[], address: number): Code | undefined {
  let lo = 0;
  let hi = codes.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = codes[mid]!;
    if (address < c.start) hi = mid - 1;
    else if (address >= c.end) lo = mid + 1;
    else return c;
  }
  return undefined;
}

function lineAt(code: Code, address: number): number {
  const a = code.addresses;
  let lo = 0;
  let hi = a.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! <= address) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found < 0 ? 0 : code.lines[found]!;
}

/** `*fn file:line:col` as V8 names optimized code: the function name alone, tier marks dropped. */
function functionName(name: string): string {
  const m = /^(?:JS:)?[*~^+]?(\S*)/.exec(name);
  const fn = m?.[1] ?? name;
  return fn === '' ? '(anonymous)' : fn;
}

interface Counts {
  total: number;
  units: number;
  byFunction: Map<string, number>;
  byLine: Map<string, number>;
}

/** Self instruction counts per function and per (function, line) from a callgrind output file. */
function attribute(callgrindFile: string, codes: Code[], units: number): Counts {
  const byFunction = new Map<string, number>();
  const byLine = new Map<string, number>();
  let total = 0;
  let last = 0;
  let skipCall = false;
  let native = '?';
  // Cost lines are `address line cost...`, one cost per event of the header, trailing zeros left out.
  let column = 2;
  const names = new Map<string, string>();
  for (const line of readFileSync(callgrindFile, 'utf8').split('\n')) {
    const c = line.charCodeAt(0);
    const isCost = (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 42; // digit + - *
    if (!isCost) {
      if (line.startsWith('events:')) {
        const at = line.slice(7).trim().split(/\s+/).indexOf(event);
        if (at < 0) fail(`callgrind counted no ${event} (its events: ${line.slice(7).trim()})`);
        column = 2 + at;
      } else if (line.startsWith('calls=')) skipCall = true;
      else if (line.startsWith('fn=') || line.startsWith('cfn=')) {
        // Names are compressed: given once, as fn=(id) name or cfn=(id) name, then fn=(id) alone.
        const m = /^c?fn=\((\d+)\)(?: (.*))?/.exec(line);
        if (m !== null) {
          if (m[2] !== undefined) names.set(m[1]!, m[2]);
          if (line[0] === 'f') native = names.get(m[1]!) ?? m[1]!;
        }
      }
      continue;
    }
    const fields = line.split(' ');
    const p = fields[0]!;
    const cost = fields[column];
    if (p.startsWith('0x')) last = Number(p);
    else if (p[0] === '+') last += Number(p.slice(1));
    else if (p[0] === '-') last -= Number(p.slice(1));
    // The cost line after calls= is the call's inclusive cost, counted where it was spent.
    if (skipCall) {
      skipCall = false;
      continue;
    }
    const n = Number(cost ?? 0);
    total += n;
    const code = codeAt(codes, last);
    const fn = code === undefined ? `[native] ${native}` : functionName(code.name);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + n);
    if (code !== undefined && code.addresses.length > 0) {
      const key = `${fn}\u0000${lineAt(code, last)}`;
      byLine.set(key, (byLine.get(key) ?? 0) + n);
    }
  }
  return { total, units, byFunction, byLine };
}

async function measure(bundle: string, span: string, dir: string): Promise<Counts> {
  const out = join(dir, `callgrind.${span}.out`);
  const cwd = mkdtempSync(join(dir, `span-${span}-`));
  let stdout: string;
  try {
    ({ stdout } = await run(
      'valgrind',
      [
        '--tool=callgrind',
        '--dump-instr=yes',
        ...simulate,
        `--callgrind-out-file=${out}`,
        process.execPath,
        '--single-threaded',
        '--perf-prof',
        '--no-compact-code-space',
        ...v8Flags,
        bundle,
        span,
      ],
      { cwd, maxBuffer: 64 * 1024 * 1024 },
    ));
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') fail('valgrind not found: install it (apt-get install -y valgrind)');
    // Valgrind's own lines ("==pid== ...") would hide node's message.
    const said = (e.stderr ?? e.message).split('\n').filter((l) => l.trim() !== '' && !l.startsWith('=='));
    fail(`the span ${span} failed: ${said.slice(-5).join('\n')}`);
  }
  const json = stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  const units = json === undefined ? Number.NaN : Number((JSON.parse(json) as { units?: unknown }).units);
  if (!Number.isFinite(units)) fail(`the span script printed no JSON line with a numeric "units" field`);
  const dump = readdirSync(cwd).find((f) => f.startsWith('jit-') && f.endsWith('.dump'));
  if (dump === undefined) fail('node wrote no jitdump file (--perf-prof): is this Linux?');
  return attribute(out, readJitdump(join(cwd, dump)), units);
}

/** Whole numbers with thin groups; a tenth for the rarer events, where a function's share is small. */
function format(n: number, tenths = false): string {
  if (tenths) return n.toFixed(1);
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

/** The module a bundle line belongs to: the nearest `// path` comment esbuild puts above each module. */
function moduleOf(bundleLines: string[], line: number): string {
  for (let i = line - 1; i >= 0; i--) {
    const m = /^\/\/ (\S+\.[cm]?[jt]s)$/.exec(bundleLines[i]!);
    if (m !== null) return m[1]!.replace(/^.*?(packages|bench|tools)\//, '$1/');
  }
  return '';
}

/** Bundles the span script from sources; a script that does not compile is a usage error, not a stack. */
async function bundleSpan(outfile: string): Promise<void> {
  try {
    await build({
      entryPoints: [script],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['@dsim/source'],
      outfile,
      logLevel: 'silent',
    });
  } catch (error) {
    const errors = (
      error as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }
    ).errors;
    const first = errors?.[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
    fail(`cannot bundle ${script}: ${first?.text ?? String(error)}${where}`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'instr-profile-'));
// On every way out, a usage error's process.exit included: the callgrind outputs are large.
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const bundle = join(dir, 'span.mjs');
await bundleSpan(bundle);
process.stderr.write(
  `instr-profile: counting ${event} for ${short} and ${long} under callgrind (a minute or two each${simulate.length > 0 ? ', longer with its cache or branch model' : ''})\n`,
);
const fine = event !== 'Ir';
const [a, b] = await Promise.all([measure(bundle, short!, dir), measure(bundle, long!, dir)]);
const units = b.units - a.units;
if (!(units > 0)) fail(`the long span did no more units than the short one (${a.units} and ${b.units})`);
const per = (x: number, y: number | undefined) => (x - (y ?? 0)) / units;
const jit = [...b.byFunction].filter(([k]) => !k.startsWith('[native]'));
const jitTotal = jit.reduce((s, [k, v]) => s + per(v, a.byFunction.get(k)), 0);
const all = per(b.total, a.total);
process.stdout.write(
  `${format(all)} ${eventName} per ${unit} at steady state (${short} -> ${long}: ${format(units)} more ${unit}s)\n` +
    `compiled JavaScript ${format(jitTotal)} (${all === 0 ? '0' : ((100 * jitTotal) / all).toFixed(1)}%); the rest is V8's runtime, collector and compiler\n\n`,
);
const bundleLines = readFileSync(bundle, 'utf8').split('\n');
const functions = [...b.byFunction]
  .map(([k, v]) => [k, per(v, a.byFunction.get(k))] as const)
  .sort((x, y) => y[1] - x[1]);
if (values.function === undefined) {
  process.stdout.write('self, per unit (a function includes what V8 inlined into it)\n');
  for (const [k, v] of functions.slice(0, top))
    process.stdout.write(
      `${format(v, fine).padStart(8)}  ${((100 * v) / all).toFixed(1).padStart(5)}%  ${k}\n`,
    );
}
const lines = [...b.byLine]
  .map(([k, v]) => [k.split('\u0000'), per(v, a.byLine.get(k))] as const)
  .filter(([[fn]]) => values.function === undefined || fn === values.function)
  // One function's lines read in source order; the hottest lines across functions, by cost.
  .sort((x, y) => (values.function === undefined ? y[1] - x[1] : Number(x[0][1]) - Number(y[0][1])));
if (values.function !== undefined && lines.length === 0) {
  const near = didYouMean(
    values.function,
    functions.map(([k]) => k),
  );
  fail(
    `no compiled lines for --function "${values.function}"${near === undefined ? '' : ` (did you mean "${near}"?)`}`,
  );
}
const shown = values.function === undefined ? lineCount : lines.length;
if (shown > 0) process.stdout.write('\nhottest lines, per unit (function, module, bundle line, source)\n');
for (const [[fn, line], v] of lines.slice(0, shown)) {
  if (values.function !== undefined && Math.abs(v) < (fine ? 0.05 : 1)) continue;
  const n = Number(line);
  const text =
    n > 0 ? (bundleLines[n - 1] ?? '').trim().slice(0, 90) : '(code with no source line: entry, checks)';
  process.stdout.write(
    `${format(v, fine).padStart(8)}  ${fn!.slice(0, 20).padEnd(20)} ${moduleOf(bundleLines, n).padEnd(40)} ${String(n).padStart(6)}  ${text}\n`,
  );
}
