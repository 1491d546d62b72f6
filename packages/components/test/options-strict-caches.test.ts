import { type DsimError, Network, RpcEndpoint, type SimEvent, Simulation, showValue } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { thrown } from '../../core/test/support/thrown.js';
import { Cache } from '../src/cache/cache.js';
import { LocalCacheAccess, RemoteCache } from '../src/cache/cache-access.js';
import { CacheAside, type LoadResult } from '../src/cache/cache-aside.js';
import { CacheServer } from '../src/cache/cache-server.js';
import { buildCdn, CdnCache, cdnOrigin } from '../src/cache/cdn.js';
import { CacheConsistency, DistributedCache } from '../src/cache/distributed-cache.js';
import { ArcPolicy } from '../src/cache/policies/arc.js';
import { createEvictionPolicy } from '../src/cache/policies/factory.js';
import { FifoPolicy } from '../src/cache/policies/fifo.js';
import { LfuPolicy } from '../src/cache/policies/lfu.js';
import { LruPolicy } from '../src/cache/policies/lru.js';
import { NoEvictionPolicy } from '../src/cache/policies/none.js';
import { RandomPolicy } from '../src/cache/policies/random.js';
import { RedisPolicy } from '../src/cache/policies/redis.js';
import { TtlPolicy } from '../src/cache/policies/ttl.js';
import type { EvictionContext } from '../src/cache/policies/types.js';
import { WTinyLfuPolicy } from '../src/cache/policies/w-tinylfu.js';
import { cheHitRatio, fifoHitRatio, lfuHitRatio } from '../src/cache/theory.js';
import { warmUp } from '../src/cache/warm-up.js';
import type { StoreResult } from '../src/cache/write-behind.js';
import { writeBehindExpectedQueue } from '../src/cache/write-behind.js';
import { CacheWriter } from '../src/cache/write-policy.js';
import { createPlacement, ModuloHash } from '../src/hashing/factory.js';
import { MaglevHash } from '../src/hashing/maglev.js';
import { RendezvousHash } from '../src/hashing/rendezvous.js';
import { HashRing } from '../src/hashing/ring.js';

/**
 * A fresh little world for each case: a simulation, a network with an origin, two cache servers and a
 * client endpoint, and the callbacks the read and write paths need.
 */
function world() {
  const sim = new Simulation({ seed: 1 });
  const net = new Network(sim);
  net.addNode('origin');
  for (const name of ['cache-0', 'cache-1']) new CacheServer(net.addNode(name), { capacity: 100 });
  const endpoint = new RpcEndpoint(net.addNode('app'));
  const local = new LocalCacheAccess(new Cache<string>(sim, { capacity: 10 }));
  const load = (key: string): SimEvent<LoadResult<string>> =>
    sim.event<LoadResult<string>>().succeed({ ok: true, value: key });
  const store = (): SimEvent<StoreResult> => sim.event<StoreResult>().succeed({ ok: true });
  const ctx: EvictionContext = { capacity: 10, rng: sim.rng('evict') };
  let nodes = 0;
  const node = () => net.addNode(`n${nodes++}`);
  const cdn = { regions: ['eu'], rtt: { eu: { eu: 1 } }, origin: { address: 'origin', region: 'eu' } };
  return { sim, net, endpoint, local, load, store, ctx, node, cdn, nodes: ['cache-0', 'cache-1'] };
}

type World = ReturnType<typeof world>;
type Build = (w: World) => unknown;

/**
 * A misspelt key: the component, the key as the user wrote it, and the known key it was meant to be.
 * `[label, build, component, bad key (with its path), suggestion (with its path)]`
 */
const TYPOS: readonly [string, Build, string, string, string][] = [
  // The motivating case: `evict` used to be ignored, and the cache ran LRU.
  [
    'Cache',
    (w) => new Cache(w.sim, { capacity: 1, evict: { kind: 'fifo' } } as never),
    'Cache',
    'evict',
    'eviction',
  ],
  ['Cache ttl', (w) => new Cache(w.sim, { capacity: 1, tll: 5 } as never), 'Cache', 'tll', 'ttl'],
  [
    'Cache eviction spec',
    (w) => new Cache(w.sim, { capacity: 1, eviction: { kind: 'lfu', halfLif: 5 } as never }),
    'Cache',
    'eviction.halfLif',
    'eviction.halfLife',
  ],
  [
    'createEvictionPolicy',
    (w) => createEvictionPolicy({ kind: 'redis-lru', sample: 3 } as never, w.ctx),
    'createEvictionPolicy',
    'eviction.sample',
    'eviction.samples',
  ],
  [
    'LruPolicy',
    (w) => new LruPolicy({ kid: 'lru' } as never, w.ctx),
    'LruPolicy',
    'eviction.kid',
    'eviction.kind',
  ],
  [
    'FifoPolicy',
    (w) => new FifoPolicy({ knd: 'fifo' } as never, w.ctx),
    'FifoPolicy',
    'eviction.knd',
    'eviction.kind',
  ],
  [
    'RandomPolicy',
    (w) => new RandomPolicy({ kinds: 'random' } as never, w.ctx),
    'RandomPolicy',
    'eviction.kinds',
    'eviction.kind',
  ],
  [
    'LfuPolicy',
    (w) => new LfuPolicy({ halflife: 1000 } as never, w.ctx),
    'LfuPolicy',
    'eviction.halflife',
    'eviction.halfLife',
  ],
  [
    'TtlPolicy',
    (w) => new TtlPolicy({ kidn: 'ttl' } as never, w.ctx),
    'TtlPolicy',
    'eviction.kidn',
    'eviction.kind',
  ],
  [
    'RedisPolicy',
    (w) => new RedisPolicy({ kind: 'redis-lfu', logfactor: 2 } as never, w.ctx),
    'RedisPolicy',
    'eviction.logfactor',
    'eviction.logFactor',
  ],
  [
    'RedisPolicy (an LFU option on redis-lru)',
    (w) => new RedisPolicy({ kind: 'redis-lru', sampels: 2 } as never, w.ctx),
    'RedisPolicy',
    'eviction.sampels',
    'eviction.samples',
  ],
  [
    'ArcPolicy',
    (w) => new ArcPolicy({ kin: 'arc' } as never, w.ctx),
    'ArcPolicy',
    'eviction.kin',
    'eviction.kind',
  ],
  [
    'WTinyLfuPolicy',
    (w) => new WTinyLfuPolicy({ windowPercnt: 5 } as never, w.ctx),
    'WTinyLfuPolicy',
    'eviction.windowPercnt',
    'eviction.windowPercent',
  ],
  [
    'NoEvictionPolicy',
    (w) => new NoEvictionPolicy({ kindd: 'none' } as never, w.ctx),
    'NoEvictionPolicy',
    'eviction.kindd',
    'eviction.kind',
  ],
  [
    'CacheServer',
    (w) => new CacheServer(w.node(), { capacity: 1, leaseTTL: 5 } as never),
    'CacheServer',
    'leaseTTL',
    'leaseTtl',
  ],
  [
    'CacheServer eviction spec',
    (w) =>
      new CacheServer(w.node(), { capacity: 1, eviction: { kind: 'w-tinylfu', hillclimber: true } as never }),
    'CacheServer',
    'eviction.hillclimber',
    'eviction.hillClimber',
  ],
  [
    'RemoteCache',
    (w) => new RemoteCache(w.endpoint, { servers: 'cache-0', timout: 5 } as never),
    'RemoteCache',
    'timout',
    'timeout',
  ],
  [
    'CacheAside',
    (w) => new CacheAside(w.sim, { cache: w.local, load: w.load, coalesse: true } as never),
    'CacheAside',
    'coalesse',
    'coalesce',
  ],
  [
    'CacheAside xfetch',
    (w) => new CacheAside(w.sim, { cache: w.local, load: w.load, xfetch: { bta: 2 } as never }),
    'CacheAside',
    'xfetch.bta',
    'xfetch.beta',
  ],
  [
    'CacheAside lease',
    (w) => new CacheAside(w.sim, { cache: w.local, load: w.load, lease: { retryAfer: 5 } as never }),
    'CacheAside',
    'lease.retryAfer',
    'lease.retryAfter',
  ],
  [
    'warmUp',
    (w) => warmUp(w.sim, { cache: w.local, keys: ['a'], load: w.load, concurency: 2 } as never),
    'warmUp',
    'concurency',
    'concurrency',
  ],
  [
    'CacheWriter',
    (w) =>
      new CacheWriter(w.sim, {
        mode: 'write-through',
        cache: w.local,
        store: w.store,
        orderd: false,
      } as never),
    'CacheWriter',
    'orderd',
    'ordered',
  ],
  [
    'CacheWriter writeBehind',
    (w) =>
      new CacheWriter(w.sim, {
        mode: 'write-behind',
        cache: w.local,
        store: w.store,
        writeBehind: { flushIntervl: 10 } as never,
      }),
    'CacheWriter',
    'writeBehind.flushIntervl',
    'writeBehind.flushInterval',
  ],
  [
    'CacheWriter writeBehind.retry',
    (w) =>
      new CacheWriter(w.sim, {
        mode: 'write-behind',
        cache: w.local,
        store: w.store,
        writeBehind: { retry: { attempt: 3 } as never },
      }),
    'CacheWriter',
    'writeBehind.retry.attempt',
    'writeBehind.retry.attempts',
  ],
  [
    'writeBehindExpectedQueue',
    () => writeBehindExpectedQueue({ ratePerSecond: 1, flushIntervalMs: 10, batchsize: 5 } as never),
    'writeBehindExpectedQueue',
    'batchsize',
    'batchSize',
  ],
  [
    'DistributedCache',
    (w) => new DistributedCache(w.endpoint, { nodes: w.nodes, replica: 2 } as never),
    'DistributedCache',
    'replica',
    'replicas',
  ],
  [
    'DistributedCache placement',
    (w) =>
      new DistributedCache(w.endpoint, { nodes: w.nodes, placement: { kind: 'ring', vnode: 10 } as never }),
    'DistributedCache',
    'placement.vnode',
    'placement.vnodes',
  ],
  [
    'DistributedCache healthCheck',
    (w) => new DistributedCache(w.endpoint, { nodes: w.nodes, healthCheck: { intervall: 1000 } as never }),
    'DistributedCache',
    'healthCheck.intervall',
    'healthCheck.interval',
  ],
  [
    'CacheConsistency',
    (w) => new CacheConsistency(w.sim, { nam: 'x' } as never),
    'CacheConsistency',
    'nam',
    'name',
  ],
  [
    'CdnCache',
    (w) => new CdnCache(w.node(), { upstream: 'origin', capacity: 1, staleIfErrors: 5 } as never),
    'CdnCache',
    'staleIfErrors',
    'staleIfError',
  ],
  [
    'buildCdn',
    (w) => buildCdn(w.net, { ...w.cdn, edge: { capacity: 1 }, edgesPerRegoin: 2 } as never),
    'buildCdn',
    'edgesPerRegoin',
    'edgesPerRegion',
  ],
  [
    'buildCdn edge',
    (w) => buildCdn(w.net, { ...w.cdn, edge: { capasity: 1 } as never }),
    'buildCdn',
    'edge.capasity',
    'edge.capacity',
  ],
  [
    'buildCdn shield',
    (w) =>
      buildCdn(w.net, { ...w.cdn, edge: { capacity: 1 }, shield: { regoin: 'eu', capacity: 1 } as never }),
    'buildCdn',
    'shield.regoin',
    'shield.region',
  ],
  [
    'buildCdn origin',
    (w) =>
      buildCdn(w.net, {
        ...w.cdn,
        edge: { capacity: 1 },
        origin: { address: 'origin', regon: 'eu' } as never,
      }),
    'buildCdn',
    'origin.regon',
    'origin.region',
  ],
  ['cdnOrigin', () => cdnOrigin({ maxage: 1000 } as never), 'cdnOrigin', 'maxage', 'maxAge'],
  ['HashRing', () => new HashRing({ vnode: 10 } as never), 'HashRing', 'vnode', 'vnodes'],
  ['RendezvousHash', () => new RendezvousHash({ node: ['a'] } as never), 'RendezvousHash', 'node', 'nodes'],
  ['MaglevHash', () => new MaglevHash({ tablesize: 7 } as never), 'MaglevHash', 'tablesize', 'tableSize'],
  ['ModuloHash', () => new ModuloHash({ nodez: ['a'] } as never), 'ModuloHash', 'nodez', 'nodes'],
  [
    'createPlacement',
    () => createPlacement({ kind: 'maglev', tabelSize: 7 } as never),
    'createPlacement',
    'tabelSize',
    'tableSize',
  ],
  [
    'a placement node',
    () => new HashRing({ nodes: [{ name: 'a', wieght: 2 } as never] }),
    'HashRing',
    'nodes[0].wieght',
    'nodes[0].weight',
  ],
  [
    'cheHitRatio',
    () => cheHitRatio([0.5, 0.5], 1, { perobject: true } as never),
    'cheHitRatio',
    'perobject',
    'perObject',
  ],
  [
    'fifoHitRatio',
    () => fifoHitRatio([0.5, 0.5], 1, { perObjet: true } as never),
    'fifoHitRatio',
    'perObjet',
    'perObject',
  ],
  [
    'lfuHitRatio',
    () => lfuHitRatio([0.5, 0.5], 1, { perobjects: true } as never),
    'lfuHitRatio',
    'perobjects',
    'perObject',
  ],
];

/**
 * A misspelt `kind` or enumerated value: `[label, build, component, field, bad value, suggestion]`.
 */
const KIND_TYPOS: readonly [string, Build, string, string, string, string][] = [
  [
    'Cache eviction.kind',
    (w) => new Cache(w.sim, { capacity: 1, eviction: { kind: 'lfuu' } as never }),
    'Cache',
    'eviction.kind',
    'lfuu',
    'lfu',
  ],
  [
    'createEvictionPolicy kind',
    (w) => createEvictionPolicy({ kind: 'w-tinyflu' } as never, w.ctx),
    'createEvictionPolicy',
    'eviction.kind',
    'w-tinyflu',
    'w-tinylfu',
  ],
  [
    'Cache unit',
    (w) => new Cache(w.sim, { capacity: 1, unit: 'byte' as never }),
    'Cache',
    'unit',
    'byte',
    'bytes',
  ],
  [
    'CacheWriter mode',
    (w) => new CacheWriter(w.sim, { mode: 'write-trough' as never, cache: w.local, store: w.store }),
    'CacheWriter',
    'mode',
    'write-trough',
    'write-through',
  ],
  [
    'CacheWriter writeBehind.onFull',
    (w) =>
      new CacheWriter(w.sim, {
        mode: 'write-behind',
        cache: w.local,
        store: w.store,
        writeBehind: { onFull: 'rejct' as never },
      }),
    'CacheWriter',
    'writeBehind.onFull',
    'rejct',
    'reject',
  ],
  [
    'DistributedCache readPolicy',
    (w) => new DistributedCache(w.endpoint, { nodes: w.nodes, readPolicy: 'primery' as never }),
    'DistributedCache',
    'readPolicy',
    'primery',
    'primary',
  ],
  [
    'DistributedCache placement (a name)',
    (w) => new DistributedCache(w.endpoint, { nodes: w.nodes, placement: 'rign' as never }),
    'DistributedCache',
    'placement',
    'rign',
    'ring',
  ],
  [
    'DistributedCache placement.kind',
    (w) => new DistributedCache(w.endpoint, { nodes: w.nodes, placement: { kind: 'maglv' } as never }),
    'DistributedCache',
    'placement.kind',
    'maglv',
    'maglev',
  ],
  [
    'createPlacement kind',
    () => createPlacement({ kind: 'rendevous' } as never),
    'createPlacement',
    'kind',
    'rendevous',
    'rendezvous',
  ],
];

/**
 * A bad value: `[label, build, component, field, value]`. The message must read
 * `component: field must be ..., got value`, and the details must carry the same.
 */
const VALUES: readonly [string, Build, string, string, unknown][] = [
  ['Cache capacity 0', (w) => new Cache(w.sim, { capacity: 0 }), 'Cache', 'capacity', 0],
  ['Cache capacity fractional', (w) => new Cache(w.sim, { capacity: 2.5 }), 'Cache', 'capacity', 2.5],
  ['Cache without capacity', (w) => new Cache(w.sim, {} as never), 'Cache', 'capacity', undefined],
  ['Cache ttl 0', (w) => new Cache(w.sim, { capacity: 1, ttl: 0 }), 'Cache', 'ttl', 0],
  ['Cache ttlJitter 1', (w) => new Cache(w.sim, { capacity: 1, ttlJitter: 1 }), 'Cache', 'ttlJitter', 1],
  ['Cache name empty', (w) => new Cache(w.sim, { capacity: 1, name: '' }), 'Cache', 'name', ''],
  [
    'Cache eviction a string',
    (w) => new Cache(w.sim, { capacity: 1, eviction: 'lru' as never }),
    'Cache',
    'eviction',
    'lru',
  ],
  [
    'Cache eviction.samples',
    (w) => new Cache(w.sim, { capacity: 1, eviction: { kind: 'redis-lru', samples: 100 } }),
    'Cache',
    'eviction.samples',
    100,
  ],
  ['LfuPolicy halfLife 0', (w) => new LfuPolicy({ halfLife: 0 }, w.ctx), 'LfuPolicy', 'eviction.halfLife', 0],
  [
    'WTinyLfuPolicy windowPercent',
    (w) => new WTinyLfuPolicy({ windowPercent: 150 }, w.ctx),
    'WTinyLfuPolicy',
    'eviction.windowPercent',
    150,
  ],
  [
    'RedisPolicy volatile',
    (w) => new RedisPolicy({ kind: 'redis-lru', volatile: 'yes' as never }, w.ctx),
    'RedisPolicy',
    'eviction.volatile',
    'yes',
  ],
  [
    'CacheServer concurrency',
    (w) => new CacheServer(w.node(), { capacity: 1, concurrency: 0 }),
    'CacheServer',
    'concurrency',
    0,
  ],
  [
    'CacheServer leaseTtl 0',
    (w) => new CacheServer(w.node(), { capacity: 1, leaseTtl: 0 }),
    'CacheServer',
    'leaseTtl',
    0,
  ],
  [
    'CacheServer persistent',
    (w) => new CacheServer(w.node(), { capacity: 1, persistent: 'yes' as never }),
    'CacheServer',
    'persistent',
    'yes',
  ],
  [
    'CacheServer serviceTime',
    (w) => new CacheServer(w.node(), { capacity: 1, serviceTime: {} as never }),
    'CacheServer',
    'serviceTime',
    {},
  ],
  // The server's cache reports as the server the user configured.
  ['CacheServer capacity', (w) => new CacheServer(w.node(), { capacity: -1 }), 'CacheServer', 'capacity', -1],
  [
    'CacheServer eviction.logFactor',
    (w) => new CacheServer(w.node(), { capacity: 1, eviction: { kind: 'redis-lfu', logFactor: -1 } }),
    'CacheServer',
    'eviction.logFactor',
    -1,
  ],
  ['LocalCacheAccess', () => new LocalCacheAccess({} as never), 'LocalCacheAccess', 'cache', {}],
  ['RemoteCache servers', (w) => new RemoteCache(w.endpoint, { servers: '' }), 'RemoteCache', 'servers', ''],
  [
    'RemoteCache timeout 0',
    (w) => new RemoteCache(w.endpoint, { servers: 'cache-0', timeout: 0 }),
    'RemoteCache',
    'timeout',
    0,
  ],
  [
    'CacheAside load',
    (w) => new CacheAside(w.sim, { cache: w.local, load: 3 as never }),
    'CacheAside',
    'load',
    3,
  ],
  [
    'CacheAside name',
    (w) => new CacheAside(w.sim, { cache: w.local, load: w.load, name: '' }),
    'CacheAside',
    'name',
    '',
  ],
  [
    'CacheAside ttl Infinity',
    (w) => new CacheAside(w.sim, { cache: w.local, load: w.load, ttl: Infinity }),
    'CacheAside',
    'ttl',
    Infinity,
  ],
  [
    'CacheAside xfetch.beta',
    (w) => new CacheAside(w.sim, { cache: w.local, load: w.load, xfetch: { beta: 0 } }),
    'CacheAside',
    'xfetch.beta',
    0,
  ],
  [
    'CacheAside lease.maxWaits',
    (w) => new CacheAside(w.sim, { cache: w.local, load: w.load, lease: { maxWaits: -1 } }),
    'CacheAside',
    'lease.maxWaits',
    -1,
  ],
  [
    'CacheAside lease.retryAfter',
    (w) => new CacheAside(w.sim, { cache: w.local, load: w.load, lease: { retryAfter: 0 } }),
    'CacheAside',
    'lease.retryAfter',
    0,
  ],
  [
    'CacheAside coalesce',
    (w) => new CacheAside(w.sim, { cache: w.local, load: w.load, coalesce: 1 as never }),
    'CacheAside',
    'coalesce',
    1,
  ],
  [
    'warmUp keys a string',
    (w) => warmUp(w.sim, { cache: w.local, keys: 'abc', load: w.load }),
    'warmUp',
    'keys',
    'abc',
  ],
  [
    'warmUp concurrency',
    (w) => warmUp(w.sim, { cache: w.local, keys: ['a'], load: w.load, concurrency: 0 }),
    'warmUp',
    'concurrency',
    0,
  ],
  [
    'warmUp rate',
    (w) => warmUp(w.sim, { cache: w.local, keys: ['a'], load: w.load, rate: 0 }),
    'warmUp',
    'rate',
    0,
  ],
  [
    'CacheWriter store',
    (w) => new CacheWriter(w.sim, { mode: 'write-through', cache: w.local, store: 'db' as never }),
    'CacheWriter',
    'store',
    'db',
  ],
  [
    'CacheWriter ttl Infinity',
    (w) => new CacheWriter(w.sim, { mode: 'write-through', cache: w.local, store: w.store, ttl: Infinity }),
    'CacheWriter',
    'ttl',
    Infinity,
  ],
  // A write-around setting on a write-through writer would be ignored: it is refused.
  [
    'CacheWriter invalidationLag (another mode)',
    (w) =>
      new CacheWriter(w.sim, { mode: 'write-through', cache: w.local, store: w.store, invalidationLag: 5 }),
    'CacheWriter',
    'invalidationLag',
    5,
  ],
  [
    'CacheWriter writeBehind.batchSize',
    (w) =>
      new CacheWriter(w.sim, {
        mode: 'write-behind',
        cache: w.local,
        store: w.store,
        writeBehind: { batchSize: 0 },
      }),
    'CacheWriter',
    'writeBehind.batchSize',
    0,
  ],
  [
    'CacheWriter writeBehind.retry.attempts',
    (w) =>
      new CacheWriter(w.sim, {
        mode: 'write-behind',
        cache: w.local,
        store: w.store,
        writeBehind: { retry: { attempts: -1 } },
      }),
    'CacheWriter',
    'writeBehind.retry.attempts',
    -1,
  ],
  [
    'writeBehindExpectedQueue ratePerSecond',
    () => writeBehindExpectedQueue({ ratePerSecond: -1, flushIntervalMs: 1 }),
    'writeBehindExpectedQueue',
    'ratePerSecond',
    -1,
  ],
  [
    'DistributedCache replicas',
    (w) => new DistributedCache(w.endpoint, { nodes: w.nodes, replicas: 3 }),
    'DistributedCache',
    'replicas',
    3,
  ],
  [
    'DistributedCache timeout 0',
    (w) => new DistributedCache(w.endpoint, { nodes: w.nodes, timeout: 0 }),
    'DistributedCache',
    'timeout',
    0,
  ],
  [
    'DistributedCache healthCheck.unhealthyThreshold',
    (w) => new DistributedCache(w.endpoint, { nodes: w.nodes, healthCheck: { unhealthyThreshold: 0 } }),
    'DistributedCache',
    'healthCheck.unhealthyThreshold',
    0,
  ],
  // The placement's values are checked by the placement, reported under the cache's option.
  [
    'DistributedCache placement.vnodes',
    (w) => new DistributedCache(w.endpoint, { nodes: w.nodes, placement: { kind: 'ring', vnodes: 0 } }),
    'DistributedCache',
    'placement.vnodes',
    0,
  ],
  [
    'DistributedCache placement.tableSize',
    (w) => new DistributedCache(w.endpoint, { nodes: w.nodes, placement: { kind: 'maglev', tableSize: 8 } }),
    'DistributedCache',
    'placement.tableSize',
    8,
  ],
  [
    'DistributedCache placement.nodes',
    (w) =>
      new DistributedCache(w.endpoint, {
        nodes: w.nodes,
        placement: { kind: 'ring', nodes: ['x'] } as never,
      }),
    'DistributedCache',
    'placement.nodes',
    ['x'],
  ],
  [
    'DistributedCache versionOf',
    (w) => new DistributedCache(w.endpoint, { nodes: w.nodes, versionOf: 3 as never }),
    'DistributedCache',
    'versionOf',
    3,
  ],
  ['CacheConsistency name', (w) => new CacheConsistency(w.sim, { name: '' }), 'CacheConsistency', 'name', ''],
  [
    'CdnCache upstream itself',
    (w) => new CdnCache(w.net.addNode('edge'), { upstream: 'edge', capacity: 1 }),
    'CdnCache',
    'upstream',
    'edge',
  ],
  [
    'CdnCache upstreamTimeout',
    (w) => new CdnCache(w.node(), { upstream: 'origin', capacity: 1, upstreamTimeout: 0 }),
    'CdnCache',
    'upstreamTimeout',
    0,
  ],
  [
    'CdnCache ttlJitter',
    (w) => new CdnCache(w.node(), { upstream: 'origin', capacity: 1, ttlJitter: -0.5 }),
    'CdnCache',
    'ttlJitter',
    -0.5,
  ],
  [
    'CdnCache collapse',
    (w) => new CdnCache(w.node(), { upstream: 'origin', capacity: 1, collapse: 'no' as never }),
    'CdnCache',
    'collapse',
    'no',
  ],
  [
    'buildCdn edge.capacity',
    (w) => buildCdn(w.net, { ...w.cdn, edge: { capacity: 0 } }),
    'buildCdn',
    'edge.capacity',
    0,
  ],
  [
    'buildCdn shield.eviction.samples',
    (w) =>
      buildCdn(w.net, {
        ...w.cdn,
        edge: { capacity: 1 },
        shield: { region: 'eu', capacity: 1, eviction: { kind: 'redis-lru', samples: 0 } },
      }),
    'buildCdn',
    'shield.eviction.samples',
    0,
  ],
  [
    'buildCdn rtt entry',
    (w) => buildCdn(w.net, { ...w.cdn, rtt: { eu: { eu: 1, us: -5 } }, edge: { capacity: 1 } }),
    'buildCdn',
    'rtt["eu"]["us"]',
    -5,
  ],
  [
    'buildCdn clientRtt',
    (w) => buildCdn(w.net, { ...w.cdn, edge: { capacity: 1 }, clientRtt: -1 }),
    'buildCdn',
    'clientRtt',
    -1,
  ],
  [
    'buildCdn latency',
    (w) => buildCdn(w.net, { ...w.cdn, edge: { capacity: 1 }, latency: 5 as never }),
    'buildCdn',
    'latency',
    5,
  ],
  ['cdnOrigin size', () => cdnOrigin({ size: -1 }), 'cdnOrigin', 'size', -1],
  ['cdnOrigin exists', () => cdnOrigin({ exists: true as never }), 'cdnOrigin', 'exists', true],
  ['HashRing vnodes', () => new HashRing({ vnodes: 0 }), 'HashRing', 'vnodes', 0],
  ['MaglevHash tableSize', () => new MaglevHash({ tableSize: 8 }), 'MaglevHash', 'tableSize', 8],
  [
    'ModuloHash weight',
    () => new ModuloHash({ nodes: [{ name: 'a', weight: 1.5 }] }),
    'ModuloHash',
    'weight of "a"',
    1.5,
  ],
  [
    'createPlacement vnodes',
    () => createPlacement({ kind: 'ring', vnodes: 1.5 }),
    'createPlacement',
    'vnodes',
    1.5,
  ],
  [
    'cheHitRatio perObject',
    () => cheHitRatio([1], 1, { perObject: 'yes' as never }),
    'cheHitRatio',
    'perObject',
    'yes',
  ],
];

/** Runs `build` in a fresh world; returns the DsimError it must throw. */
function failure(build: Build): DsimError {
  const w = world();
  return thrown(() => build(w));
}

describe('strict cache and hashing options: misspelt keys', () => {
  it.each(TYPOS)('%s', (_label, build, component, key, suggestion) => {
    const err = failure(build);
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain(`${component}: unknown option ${JSON.stringify(key)}`);
    expect(err.message).toContain(`(did you mean ${JSON.stringify(suggestion)}?)`);
    expect(err.details).toMatchObject({ component, field: key });
    expect(suggestion.endsWith(String(err.details.suggestion))).toBe(true);
  });

  it.each(KIND_TYPOS)('%s', (_label, build, component, field, value, suggestion) => {
    const err = failure(build);
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message.startsWith(`${component}: ${field} must be one of `)).toBe(true);
    expect(err.message).toContain(
      `got ${JSON.stringify(value)} (did you mean ${JSON.stringify(suggestion)}?)`,
    );
    expect(err.details).toMatchObject({ component, field, value, suggestion });
  });
});

describe('strict cache and hashing options: values', () => {
  it.each(VALUES)('%s', (_label, build, component, field, value) => {
    const err = failure(build);
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message.startsWith(`${component}: ${field} must be `)).toBe(true);
    expect(err.message).toContain(`, got ${showValue(value)}`);
    expect(err.details).toMatchObject({ component, field });
  });

  it.each([
    ['Cache staleFor', (w: World) => new Cache(w.sim, { capacity: 1, staleFor: -1 }), 'Cache: staleFor'],
    [
      'CacheServer ttl',
      (w: World) => new CacheServer(w.node(), { capacity: 1, ttl: 'soon' }),
      'CacheServer: ttl',
    ],
    [
      'RedisPolicy decayTime',
      (w: World) => new RedisPolicy({ kind: 'redis-lfu', decayTime: '1 minute' }, w.ctx),
      'RedisPolicy: eviction.decayTime',
    ],
    [
      'DistributedCache replicationLag',
      (w: World) => new DistributedCache(w.endpoint, { nodes: w.nodes, replicationLag: 'later' }),
      'DistributedCache: replicationLag',
    ],
    ['cdnOrigin maxAge', () => cdnOrigin({ maxAge: '1 hour' }), 'cdnOrigin: maxAge'],
  ] as const)('a malformed duration is INVALID_DURATION naming the component: %s', (_label, build, prefix) => {
    const err = failure(build);
    expect(err.code).toBe('INVALID_DURATION');
    expect(err.message.startsWith(`${prefix} must be `)).toBe(true);
  });

  it('rejects an options value that is not an object, naming the component', () => {
    const w = world();
    expect(thrown(() => new Cache(w.sim, null as never)).message).toMatch(
      /^Cache: options must be an object with the fields name, capacity/,
    );
    expect(
      thrown(() => new CacheAside(w.sim, { cache: w.local, load: w.load, xfetch: 2 as never })).message,
    ).toMatch(/^CacheAside: xfetch must be an object/);
    expect(thrown(() => buildCdn(w.net, { ...w.cdn, edge: 'big' as never })).message).toMatch(
      /^buildCdn: edge must be an object/,
    );
    expect(thrown(() => createPlacement(null as never)).details).toMatchObject({
      component: 'createPlacement',
      field: 'spec',
    });
  });
});

describe('strict cache and hashing options: correct options still work', () => {
  it('a cache honours the eviction its options name (fifo: a hit does not save the oldest key)', () => {
    const w = world();
    const cache = new Cache<number>(w.sim, { capacity: 2, eviction: { kind: 'fifo' } });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');
    cache.set('c', 3);
    expect([cache.has('a'), cache.has('b'), cache.has('c')]).toEqual([false, true, true]);
  });

  it('nested options that are spelt right are taken, and a misspelt one no longer falls back to a default', () => {
    const w = world();
    const edge = buildCdn(w.net, {
      ...w.cdn,
      edge: { capacity: 7, eviction: { kind: 'lfu', halfLife: '1m' } },
    }).edges.get('eu')![0]!;
    expect(edge.cache.capacity).toBe(7);
    expect(edge.cache.policy.kind).toBe('lfu');
    expect((edge.cache.policy as LfuPolicy).halfLife).toBe(60_000);
    const writer = new CacheWriter(w.sim, {
      mode: 'write-behind',
      cache: w.local,
      store: w.store,
      writeBehind: { flushInterval: '2s', retry: { attempts: 3, delay: 50 } },
    });
    expect(writer.writeBehind).toMatchObject({ flushInterval: 2000, retryAttempts: 3, retryDelay: 50 });
    const dc = new DistributedCache(w.endpoint, {
      nodes: w.nodes,
      placement: { kind: 'maglev', tableSize: 7 },
      healthCheck: { interval: 500, healthyThreshold: 1 },
    });
    expect(dc.readPolicy).toBe('primary');
    dc.stop();
  });
});
