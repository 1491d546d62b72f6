import { readdirSync, readFileSync } from 'node:fs';
import { Simulation } from '@dsim/core';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { threeTier, threeTierScenario } from '../../../examples/systems/three-tier.js';
import {
  compileSystem,
  loadSystem,
  type SystemDescription,
  systemJsonSchema,
  variant,
} from '../src/index.js';
import { runScenario } from '../src/scenario.js';

const fixture = (f: string) => new URL(`../../../examples/systems/${f}`, import.meta.url);
/** A 20 s cut of the incident (crash at 5 s for 5 s), as a variant of the frozen base. */
const short = variant((d) => {
  (d.nodes.users as { until: string }).until = '20s';
  d.faults = [{ at: '5s', for: '5s', fault: { kind: 'crash', node: 'cache' } }];
});
function digest(system: SystemDescription, seed = 1): string {
  const sim = new Simulation({ seed });
  compileSystem(sim, system);
  sim.run();
  return sim.digest();
}

describe('system as data: determinism, YAML, variants, schema', () => {
  it('the same description gives the same digest; a different seed a different one', () => {
    const s = short(threeTier);
    expect(digest(s)).toBe(digest(s));
    expect(digest(s, 2)).not.toBe(digest(s));
  });
  it('the YAML and the TS form of the same system give the same digest', () => {
    expect(loadSystem(fixture('three-tier.yaml'))).toEqual(threeTier);
    expect(digest(short(loadSystem(fixture('three-tier.yaml'))))).toBe(digest(short(threeTier)));
  });
  it('a variant leaves the frozen base untouched and frozen', () => {
    const base = variant(() => {})(threeTier);
    const before = JSON.stringify(base);
    const p2c = variant((d) => {
      (d.nodes.lb as { policy?: string }).policy = 'power-of-d';
    })(base);
    expect(JSON.stringify(base)).toBe(before);
    expect(Object.isFrozen(base) && Object.isFrozen(base.nodes) && Object.isFrozen(base.nodes.lb)).toBe(true);
    expect((p2c.nodes.lb as { policy?: string }).policy).toBe('power-of-d');
    expect(Object.isFrozen(p2c.nodes.lb)).toBe(true);
    expect(p2c.nodes.app).toBe(base.nodes.app); // untouched parts are shared
    expect(() => {
      (base.nodes.lb as { policy?: string }).policy = 'random';
    }).toThrow();
    expect(() => variant((d) => void (d.nodes.lb = { kind: 'balancer', backends: ['nope'] }))(base)).toThrow(
      /nodes\.lb\.backends\[0\]: no node named "nope"/,
    );
  });
  it('the committed JSON Schema equals the generated one', () => {
    const committed = JSON.parse(
      readFileSync(new URL('../schema/system.schema.json', import.meta.url), 'utf8'),
    );
    expect(committed).toEqual(systemJsonSchema());
  });
});

describe('the three-tier incident (cache crash at 30 s, back cold at 60 s)', () => {
  it('is short: the YAML description plus its run take at most 30 lines', () => {
    const text = (f: string) => readFileSync(fixture(f), 'utf8').split('\n');
    const yaml = text('three-tier.yaml').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    const ts = text('three-tier.ts');
    const between = (from: string, to: string) =>
      ts.slice(ts.indexOf(from) + 1, ts.indexOf(to)).filter((l) => l.trim() !== '');
    const fromFile = between('// --- from file ---', '// --- end from file ---');
    expect(yaml.length + fromFile.length).toBeLessThanOrEqual(30);
    // The TS form as biome formats it (one key per line) is longer.
    expect(between('// --- system ---', '// --- end ---').length).toBeLessThanOrEqual(40);
  });
  it('p99 and availability before, during and after the crash', () => {
    const r = runScenario(threeTierScenario, { seed: 1 });
    const o = r.outcome as Record<string, number>;
    expect(o.beforeAvailability).toBeGreaterThan(0.999);
    expect(o.beforeP99).toBeLessThan(100);
    // Every read misses to a database with 800/s of capacity: it queues past the timeouts.
    expect(o.duringAvailability).toBeLessThan(0.5);
    expect(o.duringP99).toBeGreaterThan(10 * o.beforeP99!);
    expect(o.afterAvailability).toBeGreaterThan(0.999);
    expect(o.afterP99).toBeLessThan(100);
    expect(r.metrics.requests).toBeGreaterThan(80_000);
  });
});

describe('the JSON Schema as an editor or CI linter reads it', () => {
  // A real draft 2020-12 validator (Ajv), not zod: the committed file must stand on its own.
  const validate = new Ajv2020({ strict: false, allErrors: true }).compile(
    JSON.parse(readFileSync(new URL('../schema/system.schema.json', import.meta.url), 'utf8')),
  );
  const examples = readdirSync(new URL('../../../examples/systems/', import.meta.url)).filter((f) =>
    f.endsWith('.yaml'),
  );

  it('accepts every example system file', () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
    for (const f of examples) {
      const doc = YAML.parse(
        readFileSync(new URL(`../../../examples/systems/${f}`, import.meta.url), 'utf8'),
      );
      expect(validate(doc), `${f}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('refuses what validateSystem refuses field by field: unknown keys, bad kinds, bad values', () => {
    const base = YAML.parse(readFileSync(fixture('three-tier.yaml'), 'utf8'));
    const broken = (change: (d: any) => void) => {
      const d = structuredClone(base);
      change(d);
      return validate(d);
    };
    expect(broken(() => {})).toBe(true);
    expect(broken((d) => void (d.nodes.lb.polcy = 'random'))).toBe(false);
    expect(broken((d) => void (d.nodes.db.kind = 'databse'))).toBe(false);
    expect(broken((d) => void (d.nodes.app.concurrency = -3))).toBe(false);
    expect(broken((d) => void (d.nodes.app.serviceTime = { exponential: { mean: -1 } }))).toBe(false);
    expect(broken((d) => void (d.network.latency = 'soon'))).toBe(true); // a string duration is checked by dsim, not the schema
  });
});
