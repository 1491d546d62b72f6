import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './failure.js';

/** What `dsim init` wrote. */
export interface InitResult {
  /** Files written, relative to the current folder. */
  files: string[];
  /** What to tell the user. */
  message: string;
}

const SCENARIO = `import { openLoop, RetryingClient, Service } from '@dsim/components';
import { exponential, Network, RpcEndpoint, scheduleFaults } from '@dsim/core';
import { defineScenario, param } from '@dsim/scenarios';

/**
 * A starter scenario: Poisson clients call an API through a retrying client; the API pauses for a
 * stop-the-world GC halfway through. Change it, then run it:
 *
 *   npx dsim run hello.scenario.ts --seed 1
 */
export default defineScenario({
  name: 'hello',
  description: 'Clients retry through a 2 s pause of an API server',
  params: {
    rate: param.number({ default: 100, min: 1, max: 10_000, description: 'requests per second' }),
    seconds: param.number({ default: 30, min: 1, max: 3600, description: 'simulated seconds' }),
    retries: param.integer({ default: 2, min: 0, max: 10, description: 'retries per request' }),
  },
  variants: [
    { name: 'no-retries', params: { retries: 0 } },
    { name: 'retries' },
  ],
  run({ sim, params, requests, check }) {
    const net = new Network(sim, { defaults: { latency: exponential({ mean: 1 }) } });
    new Service(net.addNode('api'), {
      concurrency: 8,
      serviceTime: exponential({ mean: 40 }), // ms: 200 requests/s of capacity
      dropExpired: true,
    });
    const client = new RetryingClient(new RpcEndpoint(net.addNode('web')), {
      timeout: 500,
      maxAttempts: params.retries + 1,
      backoff: { kind: 'exponential', baseMs: 50, capMs: 1000, jitter: 'full' },
    });
    openLoop(sim, {
      arrivals: { kind: 'poisson', rate: params.rate },
      until: params.seconds * 1000,
      onArrival: () => {
        const started = sim.now;
        requests.start();
        client.call('api', 'GET').onProcessed((e) => requests.finish(e.value?.ok === true, sim.now - started));
      },
    });
    scheduleFaults(net, [{ at: (params.seconds * 1000) / 2, for: '2s', fault: { kind: 'pause', node: 'api' } }]);
    sim.run();
    const s = client.stats;
    check('every request finished', s.ok + s.failed === s.requests, \`\${s.ok} ok + \${s.failed} failed of \${s.requests}\`);
    return { requests: s.requests, ok: s.ok, failed: s.failed, attempts: s.attempts };
  },
});
`;

const TSCONFIG = `{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "noEmit": true,
    "skipLibCheck": true
  },
  "include": ["*.ts"]
}
`;

/**
 * Writes a starter scenario project into `dir` (created if missing): \`hello.scenario.ts\`, a
 * \`package.json\` that depends on dsim, and a strict \`tsconfig.json\`. Existing files are never
 * overwritten unless \`force\`.
 *
 * @example
 * ```ts
 * initProject('my-sim', { force: false });
 * ```
 */
export function initProject(dir: string, options: { force: boolean }): InitResult {
  const root = resolve(dir);
  if (existsSync(root) && !statSync(root).isDirectory())
    throw new UsageError(`'init': ${dir} exists and is not a folder`);
  const version = ownVersion();
  const files: Record<string, string> = {
    'hello.scenario.ts': SCENARIO,
    'package.json': `${JSON.stringify(
      {
        name: 'my-dsim-scenarios',
        private: true,
        type: 'module',
        scripts: { sim: 'dsim run hello.scenario.ts --seed 1', check: 'dsim check hello.scenario.ts' },
        dependencies: {
          '@dsim/components': `^${version}`,
          '@dsim/core': `^${version}`,
          '@dsim/scenarios': `^${version}`,
        },
        devDependencies: { typescript: '~5.9.3' },
      },
      null,
      2,
    )}\n`,
    'tsconfig.json': TSCONFIG,
  };
  const clashes = Object.keys(files).filter((f) => existsSync(join(root, f)));
  if (clashes.length > 0 && !options.force)
    throw new UsageError(
      `'init': ${clashes.map((f) => join(dir, f)).join(', ')} already exist${clashes.length === 1 ? 's' : ''}; nothing was written (--force overwrites)`,
    );
  mkdirSync(root, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text);
  const shown = Object.keys(files).map((f) => relative(process.cwd(), join(root, f)) || f);
  const cd = relative(process.cwd(), root);
  return {
    files: shown,
    message: [
      `wrote ${shown.join(', ')}`,
      'next:',
      ...(cd === '' ? [] : [`  cd ${cd}`]),
      '  npm install',
      '  npx dsim run hello.scenario.ts --seed 1',
    ].join('\n'),
  };
}

function ownVersion(): string {
  try {
    const pkg = fileURLToPath(import.meta.resolve('@dsim/scenarios/package.json'));
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  } catch {
    return '0.1.0';
  }
}
