import { existsSync, statSync } from 'node:fs';
import { register } from 'node:module';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DsimError, didYouMean } from '@dsim/core';
import { builtinScenarios } from '../catalogue/index.js';
import type { Scenario } from '../scenario.js';

/** The packages a user's scenario file may import; each resolves to the CLI's own copy. */
const DSIM_SPECIFIERS = ['@dsim/core', '@dsim/components', '@dsim/scenarios', '@dsim/scenarios/vitest'];

/**
 * A user's scenario file failed while loading (a syntax error, a throw at import time, a missing
 * module). Exit 3, like any failure of user code.
 */
export class ScenarioLoadError extends Error {
  constructor(
    readonly file: string,
    override readonly cause: unknown,
  ) {
    super(`could not load ${file}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

let hooksInstalled = false;

/**
 * Makes `import ... from '@dsim/core'` (and the other dsim packages) in any user file resolve to the
 * very modules this CLI runs on, wherever the file lives: a folder with no package.json, a project
 * with its own (or a symlinked) copy of dsim in node_modules. One copy means one `Simulation` class and
 * one `DsimError` class. TypeScript is compiled by tsx's loader, registered for the process. User
 * `.ts` files are loaded as ES modules whatever the nearest package.json says, so their imports go
 * through these hooks (CommonJS `require` would not).
 */
async function installHooks(): Promise<void> {
  if (hooksInstalled) return;
  hooksInstalled = true;
  if (!process.execArgv.some((a) => a.includes('tsx'))) {
    const { register: registerTsx } = await import('tsx/esm/api');
    registerTsx();
  }
  const map: Record<string, string> = {};
  for (const specifier of DSIM_SPECIFIERS) {
    try {
      map[specifier] = import.meta.resolve(specifier);
    } catch {
      // not resolvable from here (e.g. vitest not installed): leave it to normal resolution
    }
  }
  register(`data:text/javascript,${encodeURIComponent(HOOKS)}`, { data: { map } });
}

// Runs in the loader thread. Resolution of dsim packages is pinned to the CLI's copies; a user's .ts
// file is marked as an ES module so tsx compiles it as one even without "type": "module".
const HOOKS = `
let map = {};
export function initialize(data) { map = data.map; }
export async function resolve(specifier, context, next) {
  const pinned = map[specifier];
  if (pinned !== undefined) return { url: pinned, format: 'module', shortCircuit: true };
  const resolved = await next(specifier, context);
  if (/\\.(ts|tsx)$/.test(resolved.url) && resolved.url.startsWith('file:') && !resolved.url.includes('/node_modules/')) {
    return { ...resolved, format: 'module' };
  }
  return resolved;
}
`;

/**
 * Finds a built-in scenario by name, or loads a `.ts`/`.mts`/`.js`/`.mjs` file whose default export (or
 * export named `scenario`) is a scenario.
 *
 * @example
 * ```ts
 * const scenario = await loadScenario('./my.scenario.ts');
 * ```
 */
export async function loadScenario(target: string): Promise<Scenario<any>> {
  const builtin = builtinScenarios.get(target);
  if (builtin !== undefined) return builtin;
  if (!/\.(m?ts|m?js|tsx)$/.test(target)) {
    const guess = didYouMean(target, builtinScenarios.keys());
    throw new DsimError(
      'SCENARIO_NOT_FOUND',
      `no built-in scenario named ${JSON.stringify(target)}${guess === undefined ? '' : ` (did you mean ${JSON.stringify(guess)}?)`}; run 'dsim list' for the built-in scenarios, or give a path to a .ts or .js file`,
      {
        details: { field: 'scenario', value: target, ...(guess === undefined ? {} : { suggestion: guess }) },
      },
    );
  }
  const file = resolve(target);
  if (!existsSync(file))
    throw new DsimError('SCENARIO_NOT_FOUND', `scenario file not found: ${target} (looked for ${file})`, {
      details: { field: 'scenario', value: target },
    });
  if (statSync(file).isDirectory())
    throw new DsimError('SCENARIO_NOT_FOUND', `${target} is a folder; give the scenario's .ts or .js file`, {
      details: { field: 'scenario', value: target },
    });
  let mod: Record<string, unknown>;
  try {
    // Under vite's module runner (vitest calling main() in-process) imports go through vite, which
    // already resolves @dsim/* to the sources; Node's loader hooks would not be consulted.
    if ((import.meta as { env?: unknown }).env === undefined) await installHooks();
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new ScenarioLoadError(target, error);
  }
  const candidate = (mod.default ?? mod.scenario) as Scenario<any> | undefined;
  if (
    candidate === undefined ||
    candidate === null ||
    typeof candidate !== 'object' ||
    typeof candidate.run !== 'function' ||
    typeof candidate.name !== 'string'
  ) {
    const exported = Object.keys(mod).filter((k) => k !== '__esModule');
    throw new DsimError(
      'CONFIG_ERROR',
      `${target} must export a scenario as its default export: export default defineScenario({ name, description, params, run }); it exports ${exported.length === 0 ? 'nothing' : exported.join(', ')}${extname(file) === '' ? '' : ''}`,
      { details: { field: 'default export', value: exported } },
    );
  }
  return candidate;
}
