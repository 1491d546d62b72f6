import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exponential, Simulation } from '../src/index.js';

const ROOT = join(import.meta.dirname, '../..');
const FORBIDDEN =
  /\b(Math\.random|Date\.now|new Date\(|performance\.now|setTimeout|setInterval|setImmediate|queueMicrotask|process\.hrtime)\b/;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

describe('determinism guard', () => {
  it('library sources never read real time or unseeded randomness', () => {
    const offenders: string[] = [];
    for (const pkg of ['core', 'components']) {
      for (const file of sources(join(ROOT, pkg, 'src'))) {
        readFileSync(file, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            const code = line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '');
            if (FORBIDDEN.test(code)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
          });
      }
    }
    expect(offenders).toEqual([]);
  });

  it('Math.random and Date.now throw during tests, so a stray call cannot pass unnoticed', () => {
    expect(() => Math.random()).toThrow(/determinism guard/);
    expect(() => Date.now()).toThrow(/determinism guard/);
  });

  it('a whole run with processes, streams and distributions never touches them', () => {
    const sim = new Simulation({ seed: 3 });
    const d = exponential({ mean: 5 });
    const rng = sim.rng('x');
    for (let i = 0; i < 10; i++)
      sim.process(function* () {
        for (let j = 0; j < 10; j++) yield sim.timeout(d.sample(rng));
      });
    expect(sim.run().events).toBeGreaterThan(100);
  });
});
