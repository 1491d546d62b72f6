import { existsSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { didYouMean } from '@dsim/core';
import { toDot } from '../system/graph/dot.js';
import { systemGraph } from '../system/graph/graph.js';
import { toMermaid } from '../system/graph/mermaid.js';
import { toSvg } from '../system/graph/svg.js';
import { loadSystem } from '../system/load.js';
import { formatIssue, SystemError } from '../system/validate.js';
import { UsageError } from './failure.js';
import { AtomicFile, preflightOutputs } from './output-file.js';
import { printable } from './text.js';

/** The formats of `dsim graph`, each with its exporter. */
export const GRAPH_FORMATS = { svg: toSvg, mermaid: toMermaid, dot: toDot } as const;
/** A format of `dsim graph`. */
export type GraphFormat = keyof typeof GRAPH_FORMATS;

/** The format an output file's extension implies, when it implies one. */
const BY_EXTENSION: Record<string, GraphFormat> = {
  '.svg': 'svg',
  '.mmd': 'mermaid',
  '.mermaid': 'mermaid',
  '.dot': 'dot',
  '.gv': 'dot',
};

const SYSTEM_EXTENSIONS = ['.yaml', '.yml', '.json'];

/** What `dsim graph` was asked: the parsed flags. */
export interface GraphRequest {
  /** The system description file. */
  readonly file: string;
  /** `--format`; when omitted, from the extension of `output`, else mermaid. */
  readonly format: string | undefined;
  /** `-o`/`--output`; stdout when omitted. */
  readonly output: string | undefined;
}

/**
 * `dsim graph FILE [--format svg|mermaid|dot] [-o OUT]`: draws a system description file. Prints to
 * `stdout` without an output, otherwise writes OUT atomically (checked before anything is read). Usage
 * mistakes throw a UsageError (exit 2); an invalid system prints its issues, one a line, and returns 2.
 *
 * @example
 * ```ts
 * graphCommand({ file: 'three-tier.yaml', format: 'svg', output: 'three-tier.svg' }, io);
 * ```
 */
export function graphCommand(
  request: GraphRequest,
  io: { stdout: (t: string) => void; stderr: (t: string) => void },
): number {
  const { file, output } = request;
  const format = graphFormat(request.format, output);
  const ext = extname(file).toLowerCase();
  if (!SYSTEM_EXTENSIONS.includes(ext))
    throw new UsageError(
      `'graph' draws a system description (${SYSTEM_EXTENSIONS.join(', ')}), got ${JSON.stringify(file)}`,
    );
  if (!existsSync(file) || !statSync(file).isFile())
    throw new UsageError(`no system file ${JSON.stringify(file)}`);
  if (output !== undefined) {
    if (resolve(output) === resolve(file))
      throw new UsageError(`--output ${JSON.stringify(output)} is the system file itself; give another path`);
    preflightOutputs({ '--output': output });
  }
  let text: string;
  try {
    text = GRAPH_FORMATS[format](systemGraph(loadSystem(file)));
  } catch (error) {
    if (!(error instanceof SystemError)) throw error;
    io.stderr(
      `dsim: ${printable(file)} is not a valid system:\n${error.issues.map((i) => `  ${printable(formatIssue(i))}\n`).join('')}`,
    );
    return 2;
  }
  if (output === undefined) {
    io.stdout(text);
    return 0;
  }
  const out = new AtomicFile(output);
  try {
    out.write(text);
    out.commit();
  } catch (error) {
    out.abort();
    throw error;
  }
  return 0;
}

function graphFormat(flag: string | undefined, output: string | undefined): GraphFormat {
  const formats = Object.keys(GRAPH_FORMATS);
  if (flag === undefined)
    return (output === undefined ? undefined : BY_EXTENSION[extname(output).toLowerCase()]) ?? 'mermaid';
  if (Object.hasOwn(GRAPH_FORMATS, flag)) return flag as GraphFormat;
  const guess = didYouMean(flag, formats);
  throw new UsageError(
    `--format ${JSON.stringify(flag)} is not a graph format${guess === undefined ? '' : ` (did you mean ${JSON.stringify(guess)}?)`}; formats: ${formats.join(', ')}`,
  );
}
