import { describe, expect, it } from 'vitest';
import { Container } from '../src/container.js';
import { LatencyHistogram } from '../src/index.js';
import { MetricsRegistry } from '../src/metrics/registry.js';
import { SloTracker } from '../src/metrics/slo.js';
import { applyFault, scheduleFaults } from '../src/net/faults.js';
import { Network } from '../src/net/network.js';
import { exponential, lognormal, normal, pareto, uniform, weibull } from '../src/random/continuous.js';
import { empirical } from '../src/random/empirical.js';
import { erlang, gamma } from '../src/random/gamma.js';
import { truncate } from '../src/random/truncate.js';
import { zipf } from '../src/random/zipf.js';
import { Resource } from '../src/resource.js';
import { RpcEndpoint } from '../src/rpc/endpoint.js';
import { Simulation } from '../src/simulation.js';
import { PriorityStore, Store } from '../src/store.js';
import { thrown } from './support/thrown.js';

// Options typed loosely on purpose: these are the typos a JS caller or a config file makes.
const loose = (x: unknown): never => x as never;

function world() {
  const sim = new Simulation({ seed: 1 });
  const net = new Network(sim);
  for (const a of ['a', 'b', 'c']) net.addNode(a);
  return { sim, net };
}

/** Runs a server whose handler replies with `options`, and returns what the run threw. */
function replyWith(options: unknown): unknown {
  const { sim, net } = world();
  new RpcEndpoint(net.node('b')).serve((_req, reply) => reply.ok('x', loose(options)));
  new RpcEndpoint(net.node('a')).call('b', 'q');
  try {
    sim.run();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('strict options: an unknown key names the component, the key and the closest known key', () => {
  it.each<[string, () => unknown, string, string, string]>([
    ['Simulation seed', () => new Simulation(loose({ sed: 1 })), 'Simulation', 'sed', 'seed'],
    [
      'Simulation metricsInterval',
      () => new Simulation(loose({ metricInterval: 100 })),
      'Simulation',
      'metricInterval',
      'metricsInterval',
    ],
    ['run until', () => world().sim.run(loose({ untill: 5 })), 'Simulation.run', 'untill', 'until'],
    [
      'run maxEvents',
      () => world().sim.run(loose({ maxEvent: 5 })),
      'Simulation.run',
      'maxEvent',
      'maxEvents',
    ],
    [
      'schedule priority',
      () => world().sim.schedule(1, () => {}, loose({ prority: 0 })),
      'Simulation.schedule',
      'prority',
      'priority',
    ],
    [
      'scheduleAt priority',
      () => world().sim.scheduleAt(1, () => {}, loose({ priorty: 0 })),
      'Simulation.schedule',
      'priorty',
      'priority',
    ],
    [
      'Network defaults',
      () => new Network(new Simulation(), loose({ default: {} })),
      'Network',
      'default',
      'defaults',
    ],
    ['Network name', () => new Network(new Simulation(), loose({ nme: 'lan' })), 'Network', 'nme', 'name'],
    [
      'Network defaults.latency',
      () => new Network(new Simulation(), loose({ defaults: { latncy: 1 } })),
      'Network',
      'defaults.latncy',
      'defaults.latency',
    ],
    [
      'Network defaults.bandwidth',
      () => new Network(new Simulation(), loose({ defaults: { bandwith: 1e6 } })),
      'Network',
      'defaults.bandwith',
      'defaults.bandwidth',
    ],
    [
      'setDefaults duplicate',
      () => world().net.setDefaults(loose({ duplicat: 0.1 })),
      'Network.setDefaults',
      'duplicat',
      'duplicate',
    ],
    [
      'setLink loss',
      () => world().net.setLink('a', 'b', loose({ los: 0.1 })),
      'Network.setLink a -> b',
      'los',
      'loss',
    ],
    [
      'setLink flags',
      () => world().net.setLink('a', 'b', { loss: 0.1 }, loose({ bidirectonal: true })),
      'Network.setLink',
      'bidirectonal',
      'bidirectional',
    ],
    [
      'setLatency flags',
      () => world().net.setLatency('a', 'b', 5, loose({ bidirection: false })),
      'Network.setLatency',
      'bidirection',
      'bidirectional',
    ],
    [
      'partition flags',
      () => world().net.partition('a', 'b', loose({ oneway: true })),
      'Network.partition',
      'oneway',
      'oneWay',
    ],
    [
      'restart flags',
      () => world().net.restart('a', loose({ keepstate: true })),
      'Network.restart',
      'keepstate',
      'keepState',
    ],
    [
      'send size',
      () =>
        world()
          .net.node('a')
          .send('b', 1, loose({ sise: 10 })),
      'NetNode.send',
      'sise',
      'size',
    ],
    [
      'fault entry',
      () => scheduleFaults(world().net, [loose({ at: 1, fro: 5, fault: { kind: 'crash', node: 'a' } })]),
      'scheduleFaults',
      'faults[0].fro',
      'faults[0].for',
    ],
    [
      'crash fault',
      () => scheduleFaults(world().net, [{ at: 1, fault: loose({ kind: 'crash', nod: 'a' }) }]),
      'scheduleFaults',
      'faults[0].fault.nod',
      'faults[0].fault.node',
    ],
    [
      'partition fault',
      () => applyFault(world().net, loose({ kind: 'partition', a: 'a', b: 'b', oneway: true })),
      'applyFault',
      'fault.oneway',
      'fault.oneWay',
    ],
    [
      'link fault options',
      () => applyFault(world().net, loose({ kind: 'link', a: 'a', b: 'b', options: { latncy: 2 } })),
      'applyFault',
      'fault.options.latncy',
      'fault.options.latency',
    ],
    [
      'Resource',
      () => new Resource(new Simulation(), loose({ capacty: 2 })),
      'Resource',
      'capacty',
      'capacity',
    ],
    [
      'Resource discipline',
      () => new Resource(new Simulation(), loose({ discipine: 'fifo' })),
      'Resource',
      'discipine',
      'discipline',
    ],
    [
      'Resource.request',
      () => new Resource(new Simulation()).request(loose({ priorty: 1 })),
      'Resource.request',
      'priorty',
      'priority',
    ],
    ['Store', () => new Store(new Simulation(), loose({ capcity: 3 })), 'Store', 'capcity', 'capacity'],
    [
      'PriorityStore',
      () => new PriorityStore(new Simulation(), loose({ priority: () => 0, nam: 'jobs' })),
      'PriorityStore',
      'nam',
      'name',
    ],
    ['Container', () => new Container(new Simulation(), loose({ intit: 3 })), 'Container', 'intit', 'init'],
    [
      'RpcEndpoint.call timeout',
      () => new RpcEndpoint(world().net.node('a')).call('b', 'q', loose({ timout: 5 })),
      'RpcEndpoint.call',
      'timout',
      'timeout',
    ],
    [
      'RpcEndpoint.call deadline',
      () => new RpcEndpoint(world().net.node('a')).call('b', 'q', loose({ deadlien: 5 })),
      'RpcEndpoint.call',
      'deadlien',
      'deadline',
    ],
    [
      'Reply.ok size',
      () => {
        throw replyWith({ sze: 10 });
      },
      'Reply.ok',
      'sze',
      'size',
    ],
    [
      'MetricsRegistry',
      () => new MetricsRegistry(new Simulation(), loose({ intervall: 1000 })),
      'MetricsRegistry',
      'intervall',
      'interval',
    ],
    [
      'SloTracker',
      () => new SloTracker(loose({ latencyTarget: 200, availabilityTarget: 0.99, window: '1m' })),
      'SloTracker',
      'latencyTarget',
      'latencyTargetMs',
    ],
    [
      'LatencyHistogram',
      () => new LatencyHistogram(loose({ significantDigit: 3 })),
      'LatencyHistogram',
      'significantDigit',
      'significantDigits',
    ],
    ['exponential', () => exponential(loose({ mena: 2 })), 'exponential', 'mena', 'mean'],
    ['lognormal', () => lognormal(loose({ mu: 1, sigm: 1 })), 'lognormal', 'sigm', 'sigma'],
    ['pareto', () => pareto(loose({ scale: 1, shap: 2 })), 'pareto', 'shap', 'shape'],
    ['weibull', () => weibull(loose({ scal: 1, shape: 1 })), 'weibull', 'scal', 'scale'],
    ['gamma', () => gamma(loose({ shape: 2, sacle: 1 })), 'gamma', 'sacle', 'scale'],
    ['erlang', () => erlang(loose({ k: 2, mea: 5 })), 'erlang', 'mea', 'mean'],
    ['zipf', () => zipf(loose({ n: 10, ss: 1 })), 'zipf', 'ss', 's'],
    [
      'empirical',
      () => empirical([1, 2], loose({ interpolat: true })),
      'empirical',
      'interpolat',
      'interpolate',
    ],
    ['normal', () => normal(loose({ mean: 1, sdd: 2 })), 'normal', 'sdd', 'sd'],
    ['uniform', () => uniform(loose({ min: 0, maxx: 1 })), 'uniform', 'maxx', 'max'],
    ['truncate', () => truncate(normal({ mean: 1, sd: 1 }), loose({ mn: 0 })), 'truncate', 'mn', 'min'],
  ])('%s', (_label, fn, component, key, suggestion) => {
    const err = thrown(fn);
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain(
      `${component}: unknown option ${JSON.stringify(key)} (did you mean ${JSON.stringify(suggestion)}?)`,
    );
    expect(err.message).toContain('known options');
    expect(err.details.component).toBe(component);
    expect(err.details.field).toBe(key);
    expect(err.details.suggestion).toBe(suggestion.split('.').at(-1));
  });

  it('lists every known key, even when nothing is close enough to suggest', () => {
    const err = thrown(() => exponential(loose({ lambda: 2 })));
    expect(err.message).toBe('exponential: unknown option "lambda"; known options: mean, rate');
    expect(err.details.suggestion).toBeUndefined();
  });

  it('suggests the closest fault kind for a typo in kind', () => {
    const err = thrown(() => applyFault(world().net, loose({ kind: 'crsh', node: 'a' })));
    expect(err.message).toMatch(
      /^applyFault: fault\.kind must be one of "crash", .*got "crsh" \(did you mean "crash"\?\)$/,
    );
    expect(err.details.suggestion).toBe('crash');
  });

  it('checks each fault kind against its own keys', () => {
    // `factor` belongs to degrade, not crash.
    const err = thrown(() => applyFault(world().net, loose({ kind: 'crash', node: 'a', factor: 0.5 })));
    expect(err.message).toBe(
      'applyFault: unknown option "fault.factor"; known options of fault: kind, node, keepState',
    );
  });

  it('rejects an options argument that is not an object', () => {
    expect(thrown(() => new Simulation(loose(5))).message).toBe(
      'Simulation: options must be an object with the fields seed, metricsInterval, got 5',
    );
    expect(thrown(() => world().net.node('a').send('b', 1, loose('big'))).message).toBe(
      'NetNode.send: options must be an object with the fields size, got "big"',
    );
    expect(thrown(() => new Resource(new Simulation()).request(loose([1]))).message).toMatch(
      /^Resource\.request: options must be an object/,
    );
  });

  it('accepts every documented key (no false alarms)', () => {
    const sim = new Simulation({ seed: 'x', metricsInterval: '10s' });
    const net = new Network(sim, {
      name: 'lan',
      defaults: { latency: 1, loss: 0, duplicate: 0, bandwidth: 1e6 },
    });
    for (const a of ['a', 'b']) net.addNode(a);
    net.setLink('a', 'b', { loss: 0.1 }, { bidirectional: true });
    net.setLatency('a', 'b', 2, { bidirectional: false });
    net.setLoss('a', 'b', 0, { bidirectional: true });
    net.partition('a', 'b', { oneWay: true }).heal();
    net.node('a').send('b', 1, { size: 10 });
    new Resource(sim, { capacity: 2, name: 'r', discipline: 'priority', preemptive: true }).request({
      priority: 1,
      preempt: true,
    });
    new Store(sim, { capacity: 3, name: 's', priority: () => 0 });
    new Container(sim, { capacity: 5, init: 1, name: 'c' });
    new SloTracker({ latencyTargetMs: 1, availabilityTarget: 0.9, window: 10 });
    new LatencyHistogram({ significantDigits: 2 });
    scheduleFaults(net, [
      { at: 1, for: 1, fault: { kind: 'crash', node: 'a', keepState: true } },
      { at: 1, for: 1, fault: { kind: 'link', a: 'a', b: 'b', options: { loss: 0.5 }, oneWay: true } },
    ]);
    expect(sim.run({ until: 100, maxEvents: 1000 }).reason).toBe('empty');
  });
});

describe('strict options: a bad value names the component, the field, the value and what is allowed', () => {
  const faultOn = (fault: unknown) => () => applyFault(world().net, loose(fault));
  it.each<[string, () => unknown, string]>([
    [
      'seed',
      () => new Simulation({ seed: '' }),
      'Simulation: seed must be a finite number or a non-empty string, got ""',
    ],
    [
      'metricsInterval',
      () => new Simulation({ metricsInterval: 0 }),
      'Simulation: metricsInterval must be a duration > 0 such as 1000 or "1s", got 0',
    ],
    [
      'maxEvents',
      () => world().sim.run({ maxEvents: -1 }),
      'Simulation.run: maxEvents must be an integer >= 0 or Infinity, got -1',
    ],
    [
      'Network name',
      () => new Network(new Simulation(), { name: '' }),
      'Network: name must be a non-empty string, got ""',
    ],
    [
      'defaults.loss',
      () => new Network(new Simulation(), { defaults: { loss: 2 } }),
      'Network: defaults.loss must be a probability in [0, 1], got 2',
    ],
    [
      'defaults.bandwidth',
      () => new Network(new Simulation(), { defaults: { bandwidth: 0 } }),
      'Network: defaults.bandwidth must be a number of bytes per second > 0, or Infinity, got 0',
    ],
    [
      'bidirectional',
      () => world().net.setLink('a', 'b', {}, loose({ bidirectional: 'yes' })),
      'Network.setLink: bidirectional must be true or false, got "yes"',
    ],
    [
      'oneWay',
      () => world().net.partition('a', 'b', loose({ oneWay: 1 })),
      'Network.partition: oneWay must be true or false, got 1',
    ],
    [
      'send size',
      () => world().net.node('a').send('b', 1, { size: -1 }),
      'NetNode.send: size must be a finite number of bytes >= 0, got -1',
    ],
    [
      'keepState',
      () =>
        scheduleFaults(world().net, [
          { at: 1, fault: loose({ kind: 'crash', node: 'a', keepState: 'yes' }) },
        ]),
      'scheduleFaults: faults[0].fault.keepState must be true or false, got "yes"',
    ],
    [
      'missing latency',
      faultOn({ kind: 'latency', a: 'a', b: 'b' }),
      'applyFault: fault.latency must be a distribution',
    ],
    [
      'missing loss',
      faultOn({ kind: 'loss', a: 'a', b: 'b' }),
      'applyFault: fault.loss must be a probability in [0, 1], got undefined',
    ],
    [
      'degrade factor',
      faultOn({ kind: 'degrade', node: 'a', factor: 2 }),
      'applyFault: fault.factor must be a number in (0, 1], got 2',
    ],
    [
      'skew ms',
      faultOn({ kind: 'skew', node: 'a', ms: Number.NaN }),
      'applyFault: fault.ms must be a finite number, got NaN',
    ],
    [
      'empty group',
      faultOn({ kind: 'partition', a: [], b: 'b' }),
      'applyFault: fault.a must be a node address or a non-empty array',
    ],
    [
      'unknown node',
      faultOn({ kind: 'pause', node: 'z' }),
      'applyFault: fault.node must be one of the network\'s nodes (a, b, c), got "z"',
    ],
    [
      'preemptive',
      () => new Resource(new Simulation(), loose({ preemptive: 'no' })),
      'Resource: preemptive must be true or false, got "no"',
    ],
    [
      'Resource name',
      () => new Resource(new Simulation(), { name: '' }),
      'Resource: name must be a non-empty string, got ""',
    ],
    [
      'Store name',
      () => new Store(new Simulation(), loose({ name: 7 })),
      'Store: name must be a non-empty string, got 7',
    ],
    [
      'call key',
      () => new RpcEndpoint(world().net.node('a')).call('b', 'q', loose({ key: 3 })),
      'RpcEndpoint.call: key must be a string, got 3',
    ],
    [
      'call attempt',
      () => new RpcEndpoint(world().net.node('a')).call('b', 'q', { attempt: 0 }),
      'RpcEndpoint.call: attempt must be an integer >= 1, got 0',
    ],
    [
      'call size',
      () => new RpcEndpoint(world().net.node('a')).call('b', 'q', { size: Number.NaN }),
      'RpcEndpoint.call: size must be a finite number of bytes >= 0, got NaN',
    ],
    [
      'watch everyEvents',
      () => world().sim.watch(0, () => {}),
      'Simulation.watch: everyEvents must be an integer >= 1, got 0',
    ],
    [
      'truncate min > max',
      () => truncate(normal(0, 1), { min: 5, max: 1 }),
      'truncate: max must be a number >= min (5), got 1',
    ],
    [
      'truncate no bound',
      () => truncate(normal(0, 1), {}),
      'truncate: bounds must be an object { min?, max? } with at least one bound, got {}',
    ],
    [
      'significantDigits',
      () => new LatencyHistogram(loose({ significantDigits: 7 })),
      'LatencyHistogram: significantDigits must be an integer from 1 to 5, got 7',
    ],
    [
      'Container init',
      () => new Container(new Simulation(), { init: -1 }),
      'Container: init must be a finite number >= 0, got -1',
    ],
  ])('%s', (_label, fn, message) => {
    const err = thrown(fn);
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message.startsWith(message), err.message).toBe(true);
  });
});
