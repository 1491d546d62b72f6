import { type EstimateOptions, estimate, formatEstimate, isDsimError, toMs } from '@dsim/core';
import { UsageError } from './failure.js';

/**
 * `dsim estimate`: the back-of-envelope figures of `estimate()` from `@dsim/core` on the command line.
 * Flags are the options' names in kebab case (`--requests-per-user` for `requestsPerUser`); counts take
 * SI suffixes (`10M`, `1.5k`), sizes decimal or binary ones (`1KB`, `4KiB`), shares a percent (`70%`).
 */

/** How a flag's value is read. */
type Kind = 'count' | 'ratio' | 'share' | 'bytes' | 'integer' | 'duration' | 'retention';

/** Every option flag of `dsim estimate`: the `estimate()` option it sets, how it is read, its help line. */
const FLAGS: Record<string, { option: keyof EstimateOptions; kind: Kind; help: string }> = {
  users: { option: 'users', kind: 'count', help: 'daily active users, e.g. 10M' },
  'requests-per-user': {
    option: 'requestsPerUser',
    kind: 'count',
    help: 'requests a user makes a day, e.g. 20',
  },
  'peak-factor': {
    option: 'peakFactor',
    kind: 'count',
    help: 'peak rate over the average rate, >= 1, e.g. 3',
  },
  'write-share': {
    option: 'writeShare',
    kind: 'share',
    help: 'share of requests that write, e.g. 0.1 or 10%',
  },
  'reads-per-write': { option: 'readsPerWrite', kind: 'ratio', help: 'reads per write, e.g. 9 or 9:1' },
  'request-bytes': { option: 'requestBytes', kind: 'bytes', help: 'bytes a request carries in, e.g. 1KB' },
  'response-bytes': {
    option: 'responseBytes',
    kind: 'bytes',
    help: 'bytes a response carries out, e.g. 10KB',
  },
  'bytes-per-write': {
    option: 'bytesPerWrite',
    kind: 'bytes',
    help: 'bytes a write stores (default --request-bytes)',
  },
  retention: { option: 'retention', kind: 'retention', help: 'how long writes are kept, e.g. 30d, 12w, 5y' },
  replication: {
    option: 'replication',
    kind: 'integer',
    help: 'copies of each byte stored, e.g. 3 (default 1)',
  },
  'server-capacity': {
    option: 'serverCapacity',
    kind: 'count',
    help: 'requests/s one server handles at 100%',
  },
  'service-time': {
    option: 'serviceTime',
    kind: 'duration',
    help: 'mean time a request holds a worker, e.g. 20ms',
  },
  workers: { option: 'workers', kind: 'integer', help: 'requests a server works on at once (default 1)' },
  'target-utilization': {
    option: 'targetUtilization',
    kind: 'share',
    help: 'busy share at the peak, e.g. 0.7 or 70% (default 0.7)',
  },
};

/** The flags `dsim estimate` accepts, for `parseArgs` (each value once; `--json` for the JSON document). */
export const ESTIMATE_OPTIONS = {
  ...Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string', multiple: true }])),
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
} as Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;

/** The "Options for estimate" block of `dsim help`. */
export const ESTIMATE_HELP = [
  ...Object.entries(FLAGS).map(([flag, f]) => `  --${flag} V`.padEnd(26) + f.help),
  `${'  --json'.padEnd(26)}print the figures and the worked table as one JSON document`,
].join('\n');

/**
 * Runs `dsim estimate` on parsed flags: prints the worked table (or `--json`) and returns 0. A value that
 * does not parse, or that `estimate()` rejects, is a UsageError naming the flag (exit 2).
 *
 * @example
 * ```ts
 * estimateCommand({ users: ['10M'], 'requests-per-user': ['20'], 'peak-factor': ['3'] }, io);
 * ```
 */
export function estimateCommand(
  values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>,
  io: { stdout: (text: string) => void },
): number {
  const options: Record<string, unknown> = {};
  for (const [flag, spec] of Object.entries(FLAGS)) {
    const given = values[flag];
    if (given === undefined) continue;
    const list = (Array.isArray(given) ? given : [given]).map(String);
    if (list.length > 1)
      throw new UsageError(
        `--${flag} is given ${list.length} times (${list.map((v) => JSON.stringify(v)).join(', ')}); give it once`,
      );
    options[spec.option] = parse(list[0]!, flag, spec.kind);
  }
  for (const required of ['users', 'requests-per-user', 'peak-factor'])
    if (values[required] === undefined)
      throw new UsageError(
        `'estimate' needs --users, --requests-per-user and --peak-factor (missing --${required}); e.g. dsim estimate --users 10M --requests-per-user 20 --peak-factor 3`,
      );
  let result: ReturnType<typeof estimate>;
  try {
    result = estimate(options as unknown as EstimateOptions);
  } catch (error) {
    // estimate() names its option (`estimate: peakFactor must be ...`): name the flag instead.
    if (isDsimError(error) && typeof error.details.field === 'string') {
      const flag = flagOf(error.details.field);
      if (flag !== undefined)
        throw new UsageError(error.message.replace(/^estimate: [A-Za-z]+( \([^)]*\))?/, `--${flag}`));
    }
    throw error;
  }
  io.stdout(values.json === true ? `${JSON.stringify(result)}\n` : formatEstimate(result));
  return 0;
}

function flagOf(option: string): string | undefined {
  return Object.entries(FLAGS).find(([, f]) => f.option === option)?.[0];
}

const NUMBER = String.raw`(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?`;
const SI: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

function parse(raw: string, flag: string, kind: Kind): number | string {
  const text = raw.trim().replaceAll('_', '');
  const bad = (allowed: string): UsageError =>
    new UsageError(`--${flag} must be ${allowed}, got ${JSON.stringify(raw)}`);
  switch (kind) {
    case 'count': {
      const m = new RegExp(`^${NUMBER}([kKMGT]?)$`).exec(text);
      if (m === null) throw bad('a number, with an optional SI suffix k, M, G or T (10M, 1.5k, 2500000)');
      return value(m) * SI[m[3]!]!;
    }
    case 'integer': {
      if (!/^\d+$/.test(text)) throw bad('a whole number');
      return Number(text);
    }
    case 'share': {
      const m = new RegExp(`^${NUMBER}(%?)$`).exec(text);
      if (m === null) throw bad('a fraction or a percent (0.7, 70%)');
      return m[3] === '%' ? value(m) / 100 : value(m);
    }
    case 'ratio': {
      const m = new RegExp(`^${NUMBER}(?::${NUMBER})?$`).exec(text);
      if (m === null) throw bad('a number of reads per write, or reads:writes (9, 9:1)');
      if (m[3] === undefined) return value(m);
      const per = Number(`${m[3]}${m[4] === undefined ? '' : `e${m[4]}`}`);
      if (!(per > 0)) throw bad('reads:writes with a number of writes > 0');
      return value(m) / per;
    }
    case 'bytes': {
      const m = new RegExp(`^${NUMBER}\\s*(?:(Ki|Mi|Gi|Ti|[kKMGT])?B?)$`).exec(text);
      if (m === null) throw bad('a size in bytes, with an optional unit (512, 1KB, 1.5MB, 4KiB, 1GiB)');
      const unit = m[3] ?? '';
      return value(m) * (BINARY[unit] ?? SI[unit]!);
    }
    case 'duration': {
      if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
      try {
        toMs(text, `--${flag}`);
      } catch {
        throw bad('a duration such as 20ms, 1.5s or 250us (a bare number is ms)');
      }
      return text;
    }
    default: {
      if (!/^\s*(\d+(?:\.\d+)?|\.\d+)\s*(us|ms|s|m|h|d|w|y)\s*$/.test(text))
        throw bad('a duration with a unit: d (days), w (weeks) or y (365-day years), e.g. 30d, 12w, 5y');
      return text;
    }
  }
}

function value(m: RegExpExecArray): number {
  return Number(`${m[1]}${m[2] === undefined ? '' : `e${m[2]}`}`);
}
