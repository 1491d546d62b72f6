import { describe, expect, it } from 'vitest';
import { parseSystem, type SystemDescription, SystemError, validateSystem } from '../src/index.js';

/** A valid base; each case breaks one thing. */
const base = (): Record<string, any> => ({
  nodes: {
    users: { kind: 'clients', target: 'lb', workload: { kind: 'open', rate: 10 }, until: '10s' },
    lb: { kind: 'balancer', backends: ['app-0', 'app-1', 'app-2'] },
    'app-0': { kind: 'service', serviceTime: 5, downstream: [{ to: 'db' }] },
    'app-1': { kind: 'service', serviceTime: 5, downstream: [{ to: 'db' }] },
    'app-2': { kind: 'service', serviceTime: 5, downstream: [{ to: 'db' }, { to: 'auth', timeout: 50 }] },
    auth: { kind: 'service', serviceTime: { exponential: { mean: 1 } } },
    cache: { kind: 'cache', capacity: 100 },
    db: { kind: 'database' },
  },
});

const cases: [string, (s: Record<string, any>) => void, string][] = [
  [
    'unknown key',
    (s) => void (s.nodes.lb.polcy = 'random'),
    'nodes.lb.polcy: unknown key (did you mean "policy"?)',
  ],
  ['a missing duration', (s) => void delete s.nodes.users.until, 'nodes.users.until: required, but missing'],
  [
    'a misspelt enum value',
    (s) => void (s.network = { latency: { preset: 'sameZon' } }),
    'network.latency.preset: Invalid option: expected one of',
  ],
  [
    'a misspelt enum value gets a did-you-mean',
    (s) => void (s.network = { latency: { preset: 'sameZon' } }),
    'got "sameZon" (did you mean "sameZone"?)',
  ],
  [
    'a bad value inside a distribution names the field, not the union',
    (s) => void (s.nodes.auth.serviceTime = { exponential: { mean: -1 } }),
    'nodes.auth.serviceTime.exponential.mean: Too small',
  ],
  ['unknown top-level key', (s) => void (s.netwrk = {}), 'netwrk: unknown key (did you mean "network"?)'],
  ['unknown node kind', (s) => void (s.nodes.db.kind = 'databse'), 'nodes.db.kind'],
  [
    'missing backend',
    (s) => void (s.nodes.lb.backends[2] = 'app-9'),
    'nodes.lb.backends[2]: no node named "app-9" (did you mean "app-0"?)',
  ],
  [
    'bad timeout',
    (s) => void (s.nodes['app-2'].downstream[1].timeout = 'soon'),
    'nodes.app-2.downstream[1].timeout: must be a duration',
  ],
  [
    'negative timeout',
    (s) => void (s.nodes['app-2'].downstream[1].timeout = -1),
    'nodes.app-2.downstream[1].timeout: must be a duration >= 0',
  ],
  [
    'missing downstream node',
    (s) => void (s.nodes['app-2'].downstream[1].to = 'auht'),
    'nodes.app-2.downstream[1].to: no node named "auht" (did you mean "auth"?)',
  ],
  [
    'cycle',
    (s) => void (s.nodes.auth.downstream = [{ to: 'lb' }]),
    'calls form a cycle: lb -> app-2 -> auth -> lb',
  ],
  [
    'target of the wrong kind',
    (s) => void (s.nodes.users.target = 'cache'),
    'nodes.users.target: "cache" is a cache; a target must be a balancer or service or database or cdn',
  ],
  [
    'misspelt distribution',
    (s) => void (s.nodes.auth.serviceTime = { exponental: { mean: 1 } }),
    'nodes.auth.serviceTime.exponental: unknown key (did you mean "exponential"?)',
  ],
  [
    'two distributions',
    (s) => void (s.nodes.auth.serviceTime = { constant: 1, exponential: { mean: 1 } }),
    'nodes.auth.serviceTime: must name exactly one distribution',
  ],
  [
    'bad distribution parameter',
    (s) => void (s.nodes.auth.serviceTime = { exponential: { mean: -1 } }),
    'nodes.auth.serviceTime.exponential.mean',
  ],
  ['missing required field', (s) => void delete s.nodes.auth.serviceTime, 'nodes.auth.serviceTime'],
  ['non-positive rate', (s) => void (s.nodes.users.workload.rate = 0), 'nodes.users.workload.rate'],
  [
    'cache-aside to a non-cache',
    (s) => void (s.nodes.auth.cacheAside = { cache: 'db' }),
    'nodes.auth.cacheAside.cache: "db" is a database',
  ],
  [
    'cache-aside without an origin',
    (s) => void (s.nodes.auth.cacheAside = { cache: 'cache' }),
    'nodes.auth.downstream: with cacheAside, exactly one downstream call',
  ],
  [
    'replicated service called directly',
    (s) => void (s.nodes.auth.replicas = 3),
    'nodes.app-2.downstream[1].to: "auth" has 3 replicas; put a balancer in front of it',
  ],
  [
    'edge to a missing node',
    (s) => void (s.network = { edges: { 'lb->ap-0': { latency: 1 } } }),
    'network.edges.lb->ap-0: no node named "ap-0" (did you mean "app-0"?)',
  ],
  [
    'region pair nobody is in',
    (s) => void (s.network = { regions: { 'us->eu': { latency: 40 } } }),
    'network.regions.us->eu: no node is in region "us"',
  ],
  [
    'fault on a missing node',
    (s) => void (s.faults = [{ at: '1s', fault: { kind: 'crash', node: 'dbb' } }]),
    'faults[0].fault.node: no node named "dbb" (did you mean "db"?)',
  ],
  ['until before from', (s) => void (s.nodes.users.from = '20s'), 'nodes.users.until: must be after `from`'],
  ['balancer policy', (s) => void (s.nodes.lb.policy = 'p2c'), 'nodes.lb.policy'],
  [
    'duplicate backend',
    (s) => void s.nodes.lb.backends.push('app-0'),
    'nodes.lb.backends[3]: "app-0" is listed twice',
  ],
];

describe('system validation errors name their path', () => {
  it('accepts the base', () => {
    expect(() => validateSystem(base())).not.toThrow();
  });
  it.each(cases)('%s', (_name, breakIt, expected) => {
    const s = base();
    breakIt(s);
    let error: unknown;
    try {
      validateSystem(s);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SystemError);
    expect((error as SystemError).message).toContain(expected);
  });
  it('reports every defect at once', () => {
    const s = base();
    s.nodes.lb.polcy = 1;
    s.nodes.users.workload.rate = -1;
    expect(() => validateSystem(s)).toThrow(SystemError);
    try {
      validateSystem(s);
    } catch (e) {
      expect((e as SystemError).issues.map((i) => i.path).sort()).toEqual([
        'nodes.lb.polcy',
        'nodes.users.workload.rate',
      ]);
    }
  });
  it('a YAML syntax error is an error at the root', () => {
    expect(() => parseSystem('nodes: {')).toThrow(/not valid YAML\/JSON/);
  });
  it('a component error at compile time names the node', async () => {
    const { compileSystem } = await import('../src/index.js');
    const { Simulation } = await import('@dsim/core');
    const s = base() as SystemDescription;
    (s.nodes.lb as { health?: object }).health = { interval: 0 };
    expect(() => compileSystem(new Simulation({ seed: 1 }), s)).toThrow(/nodes\.lb/);
  });
});
