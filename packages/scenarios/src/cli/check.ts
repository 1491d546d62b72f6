import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './failure.js';

/** What `dsim check` found. */
export interface TypecheckReport {
  /** Number of errors. */
  errors: number;
  /** The diagnostics, formatted as tsc prints them (`file(line,col): error TSnnnn: ...`). */
  text: string;
}

const DSIM_PACKAGES = ['@dsim/core', '@dsim/components', '@dsim/scenarios', '@dsim/scenarios/vitest'];

type TypeScript = typeof import('typescript');

/**
 * Type-checks a scenario file with the TypeScript compiler, in strict mode, with `@dsim/*` imports
 * resolved to the types of the CLI's own copy (as `dsim run` resolves the code). Uses the `typescript`
 * package installed beside the file, or the one beside dsim.
 *
 * @example
 * ```ts
 * const report = typecheckScenario('my.scenario.ts');
 * if (report.errors > 0) console.error(report.text);
 * ```
 */
export function typecheckScenario(target: string): TypecheckReport {
  const file = resolve(target);
  if (!/\.(m?ts|tsx)$/.test(file))
    throw new UsageError(`'check' takes a .ts file, got ${JSON.stringify(target)}`);
  if (!existsSync(file)) throw new UsageError(`'check': file not found: ${target}`);
  const ts = loadTypeScript(file);
  const paths: Record<string, string[]> = {};
  for (const specifier of DSIM_PACKAGES) {
    const types = typesOf(specifier);
    if (types !== undefined) paths[specifier] = [types];
  }
  const options: import('typescript').CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    customConditions: ['@dsim/source'],
    lib: ['lib.es2023.d.ts'],
    // Node's types when they can be found (a scenario may use node: modules), none otherwise.
    ...nodeTypes(file),
    paths,
  };
  const program = ts.createProgram([file], options);
  // dsim's own files are checked by dsim's build; only the user's code is reported.
  const own = Object.values(paths).map((p) => dirname(dirname(p[0]!)));
  const diagnostics = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file === undefined || !own.some((dir) => d.file!.fileName.startsWith(`${dir}/`)));
  const cwd = process.cwd();
  const text = ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => cwd,
    getNewLine: () => '\n',
  });
  const errors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error).length;
  return {
    errors,
    text:
      errors === 0
        ? `${target}: no type errors\n`
        : `${text}${errors} type error${errors === 1 ? '' : 's'} in ${target}\n`,
  };
}

function loadTypeScript(file: string): TypeScript {
  for (const from of [file, fileURLToPath(import.meta.url)]) {
    try {
      return createRequire(from)('typescript') as TypeScript;
    } catch {
      // try the next place
    }
  }
  throw new UsageError(
    "'check' needs the typescript package: install it beside your scenario (npm install --save-dev typescript)",
  );
}

/** The declaration file (or source, in the dsim checkout) behind one of dsim's own package names. */
function typesOf(specifier: string): string | undefined {
  let url: string;
  try {
    url = import.meta.resolve(specifier);
  } catch {
    return undefined;
  }
  const path = fileURLToPath(url);
  if (path.endsWith('.ts')) return path;
  const dts = path.replace(/\.js$/, '.d.ts');
  return existsSync(dts) ? dts : resolve(dirname(path), 'index.d.ts');
}

function nodeTypes(file: string): { types: string[]; typeRoots?: string[] } {
  for (const from of [file, fileURLToPath(import.meta.url)]) {
    try {
      const pkg = createRequire(from).resolve('@types/node/package.json');
      return { types: ['node'], typeRoots: [dirname(dirname(pkg))] };
    } catch {
      // not here
    }
  }
  return { types: [] };
}
