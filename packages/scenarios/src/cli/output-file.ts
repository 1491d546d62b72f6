import { closeSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** The usage error of one output flag: exit 2, naming the flag and the path. */
export class OutputPathError extends Error {
  constructor(
    readonly flag: string,
    readonly path: string,
    reason: string,
  ) {
    super(`${flag} ${JSON.stringify(path)}: ${reason}`);
  }
}

/**
 * Checks, before anything runs, that each output path can be written: its folder exists and is a
 * folder, the path is not itself a folder, no two flags name the same file, and a probe file can be
 * created (and removed) beside it. Throws {@link OutputPathError} naming the first bad flag.
 *
 * @param outputs - flag name (`--events`) to the path the user gave
 * @example
 * ```ts
 * preflightOutputs({ '--events': 'out/events.ndjson', '--trace': 'out/trace.json' });
 * ```
 */
export function preflightOutputs(outputs: Readonly<Record<string, string | undefined>>): void {
  const seen = new Map<string, string>();
  for (const [flag, path] of Object.entries(outputs)) {
    if (path === undefined) continue;
    if (path.trim() === '') throw new OutputPathError(flag, path, 'the path is empty');
    const full = resolve(path);
    const other = seen.get(full);
    if (other !== undefined)
      throw new OutputPathError(flag, path, `${other} writes the same file; give each output its own path`);
    seen.set(full, flag);
    const folder = dirname(full);
    const dir = statOrNull(folder);
    if (dir === null) throw new OutputPathError(flag, path, `the folder ${folder} does not exist`);
    if (!dir.isDirectory()) throw new OutputPathError(flag, path, `${folder} is not a folder`);
    const target = statOrNull(full);
    if (target?.isDirectory()) throw new OutputPathError(flag, path, 'is a folder; give a file name');
    const probe = tempPath(full, 'probe');
    try {
      closeSync(openSync(probe, 'wx'));
    } catch (error) {
      throw new OutputPathError(flag, path, `cannot create files in ${folder} (${errorCode(error)})`);
    } finally {
      rmSync(probe, { force: true });
    }
  }
}

const live = new Set<AtomicFile>();
let exitHookInstalled = false;

/**
 * A file written as a stream to a temporary name beside its target and renamed onto the target by
 * {@link AtomicFile.commit}: readers never see a half-written file, an existing file at the target is
 * untouched until the commit, and a failed run ({@link AtomicFile.abort}, or the process exiting)
 * leaves no temporary file behind; one killed by a signal mid-computation leaves its temporary file
 * until the next run to the same target removes it. Writes are buffered in 64 KiB chunks, so memory stays
 * bounded however much is written.
 *
 * @example
 * ```ts
 * const out = new AtomicFile('events.ndjson');
 * out.write('{"t":0}\n');
 * out.commit();
 * ```
 */
export class AtomicFile {
  readonly path: string;
  private readonly tmp: string;
  private fd: number | null;
  private buffer: string[] = [];
  private buffered = 0;
  /** Bytes written so far. */
  bytes = 0;

  constructor(path: string) {
    this.path = resolve(path);
    sweepOrphans(this.path);
    this.tmp = tempPath(this.path, 'tmp');
    this.fd = openSync(this.tmp, 'wx');
    live.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const file of live) file.abort();
      });
    }
  }

  /** Appends text. */
  write(text: string): void {
    this.buffer.push(text);
    this.buffered += text.length;
    if (this.buffered >= 65536) this.flush();
  }

  /** Appends a line and its newline. */
  line(text: string): void {
    this.write(`${text}\n`);
  }

  /** Writes the rest, closes the file and renames it onto the target. */
  commit(): void {
    if (this.fd === null) return;
    this.flush();
    closeSync(this.fd);
    this.fd = null;
    renameSync(this.tmp, this.path);
    live.delete(this);
  }

  /** Closes and removes the temporary file; the target is left as it was. Safe to call twice. */
  abort(): void {
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // already closed by a failed write
      }
      this.fd = null;
    }
    rmSync(this.tmp, { force: true });
    live.delete(this);
  }

  private flush(): void {
    if (this.fd === null || this.buffered === 0) return;
    const chunk = this.buffer.join('');
    this.buffer = [];
    this.buffered = 0;
    this.bytes += writeSync(this.fd, chunk);
  }
}

/**
 * Removes temporary files that an earlier run writing the same target left behind. A run killed by a
 * signal (Ctrl-C while the simulation computes: the event loop is busy, so no handler could run) ends
 * at once, before any clean-up; its file names its process id, so it is removed here once that process
 * is gone. So is the empty probe file of a run killed while it checked that the folder is writable.
 */
function sweepOrphans(full: string): void {
  const prefix = `.${basename(full)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(full));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !(name.endsWith('.tmp') || name.endsWith('.probe'))) continue;
    const pid = Number(name.slice(prefix.length).split('.')[0]);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    rmSync(join(dirname(full), name), { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

let tempCounter = 0;

/** `.<name>.<pid>.<n>.<suffix>` beside the target: same folder, so the final rename is atomic. */
function tempPath(full: string, suffix: string): string {
  return join(dirname(full), `.${basename(full)}.${process.pid}.${tempCounter++}.${suffix}`);
}

function statOrNull(path: string) {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function errorCode(error: unknown): string {
  return (error as { code?: string }).code ?? String(error);
}
