import {
  type BalancerBackend,
  type BalancerPolicySpec,
  createBalancerPolicy,
  createKeys,
  LoadBalancer,
} from '@dsim/components';
import { exponential, Network, type RandomStream, RpcEndpoint, type RpcRequest } from '@dsim/core';
import { param } from '../params.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_MS, MAX_RATE, MAX_SECONDS, MAX_ZIPF } from './limits.js';

const POLICIES = ['ring-hash', 'maglev', 'bounded-125', 'bounded-150'] as const;
type Policy = (typeof POLICIES)[number];

const SPECS: Record<Policy, BalancerPolicySpec> = {
  'ring-hash': { kind: 'ring-hash' },
  maglev: { kind: 'maglev' },
  'bounded-125': { kind: 'consistent-bounded', hashBalanceFactor: 125 },
  'bounded-150': { kind: 'consistent-bounded', hashBalanceFactor: 150 },
};

/** The key's home: its owner under plain hashing (bounded loads start from the ring owner). */
const HOME: Record<Policy, BalancerPolicySpec> = {
  'ring-hash': { kind: 'ring-hash' },
  maglev: { kind: 'maglev' },
  'bounded-125': { kind: 'ring-hash' },
  'bounded-150': { kind: 'ring-hash' },
};

/**
 * The owner (an index into `addresses`) of every key index in [0, count) under a fresh policy built
 * from `spec` over `addresses`, all equally weighted and idle: the policy's own placement, outside a
 * balancer. A policy is first built over `first` (the ring's points per backend are fixed then, as in
 * the balancer), then rebuilt over `addresses`.
 *
 * @example
 * ```ts
 * keyOwners({ kind: 'ring-hash' }, ['a', 'b'], ['a', 'b'], (i) => `k${i}`, 100, rng);
 * ```
 */
export function keyOwners(
  spec: BalancerPolicySpec,
  first: readonly string[],
  addresses: readonly string[],
  key: (index: number) => string,
  count: number,
  rng: RandomStream,
): Int32Array {
  const policy = createBalancerPolicy(spec);
  const list = (names: readonly string[]): BalancerBackend[] =>
    names.map((address, index) => ({ address, weight: 1, active: 0, available: true, index }));
  policy.rebuild?.(list(first));
  const backends = list(addresses);
  policy.rebuild?.(backends);
  const ids = Int32Array.from(backends, (b) => b.index);
  const owners = new Int32Array(count);
  const ctx = {
    backends,
    availableIndices: ids,
    availableCount: ids.length,
    panic: false,
    request: { key: '' } as unknown as RpcRequest,
    rng,
    now: 0,
  };
  for (let i = 0; i < count; i++) {
    (ctx.request as { key: string }).key = key(i);
    owners[i] = policy.pick(ctx);
  }
  return owners;
}

/**
 * `hash-affinity`: a hot-key workload (Zipf keys) over N backends behind a {@link LoadBalancer} that
 * hashes the request key: ring hash (Ketama), Maglev, and consistent hashing with bounded loads at
 * `hash_balance_factor` 125 and 150. Backends have no queue (exponential service, any number at once),
 * so active requests measure load. At `removeAtSeconds` the last backend leaves (`removeBackend`).
 * Measured: the load of the busiest backend against the average, how many keys change owner when the
 * backend leaves (over the whole key space, from the policy's own placement, and as seen by requests),
 * and how often a key's request lands on a different backend than its previous one (a lost session).
 */
export const hashAffinity = defineScenario({
  name: 'hash-affinity',
  description:
    'Ring hash, Maglev and bounded-load consistent hashing under hot keys: load imbalance, keys moved, sessions lost',
  params: {
    backends: param.integer({
      default: 10,
      min: 2,
      max: 1000,
      description: 'backends behind the balancer (N)',
    }),
    keys: param.integer({
      default: 10_000,
      min: 1,
      max: 1_000_000,
      description: 'distinct keys (Zipf ranks)',
    }),
    zipf: param.number({
      default: 0.99,
      min: 0,
      max: MAX_ZIPF,
      description: 'Zipf exponent of key popularity (0.99 as YCSB; key k0 the hottest)',
    }),
    rate: param.number({
      default: 2000,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description: 'requests per second (Poisson), each with a key',
    }),
    serviceMs: param.number({
      default: 50,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'mean time a backend holds a request (exponential, no queueing)',
    }),
    seconds: param.number({
      default: 20,
      min: 1,
      max: MAX_SECONDS,
      description: 'simulated seconds of arrivals; rate × seconds at most 1 000 000',
    }),
    removeAtSeconds: param.number({
      default: 10,
      min: 0,
      max: MAX_SECONDS,
      description: 'when the last backend leaves (removeBackend)',
    }),
    policy: param.enum(POLICIES, {
      default: 'ring-hash',
      description: 'hashing policy (each variant sets it)',
    }),
  },
  variants: POLICIES.map((policy) => ({ name: policy, params: { policy } })),
  run({ sim, params, requests, check }) {
    limitOffered(params.rate * params.seconds, 'rate × seconds');
    const n = params.backends;
    const policy: Policy = params.policy;
    const end = params.seconds * 1000;
    const removeAt = params.removeAtSeconds * 1000;
    const keys = createKeys({ kind: 'zipf', count: params.keys, s: params.zipf });
    const count = params.keys;
    const net = new Network(sim); // zero latency: the balancer's active count is the backend's
    const serviceTime = exponential({ mean: params.serviceMs });
    const addresses: string[] = [];
    for (let i = 0; i < n; i++) addresses.push(`backend-${i}`);
    const leaver = addresses[n - 1]!;
    const stayers = addresses.slice(0, n - 1);

    const hbf =
      SPECS[policy].kind === 'consistent-bounded' ? (SPECS[policy].hashBalanceFactor as number) : null;
    let lb: LoadBalancer | null = null;
    /** The balancer's view of every backend, by address (the objects outlive index changes). */
    const view = new Map<string, BalancerBackend>();
    let boundChecks = 0;
    let boundViolations = 0;
    let worstOverBound = 0;
    let peakActive = 0;
    const phase1Requests = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const address = addresses[i]!;
      const node = net.addNode(address);
      const rng = sim.rng(`hash-affinity/service/${address}`);
      new RpcEndpoint(node).serve((_request, reply) => {
        if (sim.now < removeAt) phase1Requests[i]!++;
        // The policy's own bound, on the balancer's counts, as this request arrives (zero latency:
        // the moment it was picked): active <= ceil(factor × total active / available backends).
        const me = view.get(address)!;
        if (me.active > peakActive) peakActive = me.active;
        if (hbf !== null) {
          let total = 0;
          const list = lb!.backends;
          for (const b of list) total += b.active;
          const cap = Math.ceil((hbf * total) / (100 * list.length));
          boundChecks++;
          if (me.active > cap) boundViolations++;
          worstOverBound = Math.max(worstOverBound, me.active / cap);
        }
        node.setTimer(serviceTime.sample(rng), () => reply.ok(i));
      });
    }
    lb = new LoadBalancer(net.addNode('lb'), {
      backends: addresses,
      policy: SPECS[policy],
      timeout: Infinity,
    });
    for (const b of lb.backends) view.set(b.address, b);
    sim.schedule(removeAt, () => lb!.removeBackend(leaver));

    // The key space's owners before and after the removal, from the policy's own placement.
    const probe = sim.rng('hash-affinity/probe'); // never drawn: every probe has a key
    const key = (i: number) => keys.key(i);
    const before = keyOwners(HOME[policy], addresses, addresses, key, count, probe);
    const after = keyOwners(HOME[policy], addresses, stayers, key, count, probe);
    let moved = 0;
    let movedFromStayers = 0;
    let onLeaver = 0;
    let movedWeight = 0;
    let leaverWeight = 0;
    for (let k = 0; k < count; k++) {
      const was = addresses[before[k]!]!;
      const now = stayers[after[k]!]!;
      const p = keys.probability(k);
      if (was === leaver) {
        onLeaver++;
        leaverWeight += p;
      }
      if (was !== now) {
        moved++;
        movedWeight += p;
        if (was !== leaver) movedFromStayers++;
      }
    }

    // Traffic.
    const client = new RpcEndpoint(net.addNode('client'));
    const last = new Int32Array(count).fill(-1); // the backend (index in addresses) of the key's last answer
    const lastBefore = new Int32Array(count).fill(-1); // its last backend before the removal
    const firstAfter = new Int32Array(count).fill(-1); // its first backend after
    const changed = new Uint8Array(count); // 1 once a key's answer came from another backend than its last
    const answers = new Uint32Array(count);
    let affinityBreaks = 0;
    let offHome = 0;
    let answered = 0;
    let failed = 0;
    const arrivals = sim.rng('hash-affinity/arrivals');
    const keyRng = sim.rng('hash-affinity/keys');
    const gaps = exponential({ rate: params.rate / 1000 });
    sim.process(function* () {
      while (sim.now < end) {
        const started = sim.now;
        const k = keys.nextIndex(keyRng);
        const early = started < removeAt;
        requests.start();
        client.call('lb', 'GET', { key: keys.key(k) }).onProcessed((e) => {
          const res = e.value!;
          requests.finish(res.ok, sim.now - started);
          if (!res.ok) {
            failed++;
            return;
          }
          answered++;
          answers[k]!++;
          const b = res.value as number;
          const home = early ? before[k]! : after[k]!;
          const homeAddress = early ? addresses[home]! : stayers[home]!;
          if (addresses[b] !== homeAddress) offHome++;
          if (last[k]! >= 0 && last[k] !== b) {
            affinityBreaks++;
            changed[k] = 1;
          }
          last[k] = b;
          if (early) lastBefore[k] = b;
          else if (firstAfter[k]! < 0) firstAfter[k] = b;
        });
        yield sim.timeout(gaps.sample(arrivals));
      }
    });
    sim.run();

    // Keys seen on both sides of the removal: did their backend change?
    let seenBoth = 0;
    let seenMoved = 0;
    let seenMovedFromStayers = 0;
    let keysRepeated = 0;
    let keysChanged = 0;
    for (let k = 0; k < count; k++) {
      if (changed[k]) keysChanged++;
      if (answers[k]! >= 2) keysRepeated++;
      if (lastBefore[k]! >= 0 && firstAfter[k]! >= 0) {
        seenBoth++;
        if (lastBefore[k] !== firstAfter[k]) {
          seenMoved++;
          if (addresses[lastBefore[k]!] !== leaver) seenMovedFromStayers++;
        }
      }
    }

    const mean = phase1Requests.reduce((s, x) => s + x, 0) / n;
    const loadRatio = mean === 0 ? 0 : Math.max(...phase1Requests) / mean;
    const fair = 1 / n;
    const label = policy;
    check('every request answered ok', failed === 0, `${answered} answered, ${failed} failed`);
    if (policy === 'ring-hash' || policy === 'maglev') {
      check(
        `${label}: every request went to its key's owner under the membership of the moment`,
        offHome === 0,
        `${offHome} of ${answered} requests off their key's owner`,
      );
    }
    if (policy === 'ring-hash') {
      check(
        'ring hash: removing a backend moves only its own keys, all of them',
        movedFromStayers === 0 && moved === onLeaver,
        `${moved} of ${count} keys moved, ${onLeaver} were on ${leaver}, ${movedFromStayers} moved between stayers`,
      );
      check(
        'ring hash: it moves about 1/N of the keys (the leaver’s ring share, within ±50% of 1/N)',
        moved / count >= 0.5 * fair && moved / count <= 1.5 * fair,
        `${(moved / count).toFixed(4)} of the keys, 1/N = ${fair.toFixed(4)}`,
      );
    }
    if (policy === 'maglev') {
      check(
        'maglev: every key of the leaver moves, and few others (at most 3/N in all)',
        moved >= onLeaver && moved / count <= 3 * fair,
        `${(moved / count).toFixed(4)} of the keys moved (${onLeaver} were on ${leaver}, ${movedFromStayers} moved between stayers), 1/N = ${fair.toFixed(4)}`,
      );
    }
    if (hbf !== null) {
      check(
        `bounded ${hbf}: no backend ever above ceil(${hbf / 100} × average active), at every arrival`,
        boundChecks > 0 && boundViolations === 0,
        `${boundViolations} of ${boundChecks} arrivals over the bound; worst active / bound ${worstOverBound.toFixed(3)}`,
      );
    }
    if (policy === 'ring-hash' && seenBoth > 0) {
      check(
        'ring hash: among keys requested on both sides of the removal, only the leaver’s changed backend',
        seenMovedFromStayers === 0,
        `${seenMoved} of ${seenBoth} keys seen on both sides changed backend, ${seenMovedFromStayers} of them from a stayer`,
      );
    }

    return {
      loadRatio,
      hottestKeyShare: keys.probability(0),
      peakActive,
      boundViolations: hbf === null ? null : boundViolations,
      worstActiveOverBound: hbf === null ? null : worstOverBound,
      offHomeShare: answered === 0 ? 0 : offHome / answered,
      keysMovedShare: moved / count,
      keysMovedFromStayers: movedFromStayers,
      leaverKeyShare: onLeaver / count,
      requestsMovedShare: movedWeight,
      leaverRequestShare: leaverWeight,
      seenBothSides: seenBoth,
      seenMovedShare: seenBoth === 0 ? 0 : seenMoved / seenBoth,
      seenMovedFromStayers,
      affinityBreaks,
      affinityBreakRate: answered === 0 ? 0 : affinityBreaks / answered,
      keysRepeated,
      keysChanged,
      keysChangedShare: keysRepeated === 0 ? 0 : keysChanged / keysRepeated,
    };
  },
  compare(variants: readonly VariantResult[]) {
    const get = (name: string) => variants.find((v) => v.name === name)?.outcome;
    const out = [];
    const ring = get('ring-hash');
    const b125 = get('bounded-125');
    const b150 = get('bounded-150');
    if (ring !== undefined && b125 !== undefined)
      out.push({
        name: 'bounded loads (125) cut the busiest backend’s load below ring hash’s',
        pass: (b125.loadRatio as number) < (ring.loadRatio as number),
        detail: `max / mean requests: ring ${ring.loadRatio}, bounded-125 ${b125.loadRatio}`,
      });
    if (b125 !== undefined && b150 !== undefined)
      out.push({
        name: 'a tighter balance factor loses more sessions: 125 breaks affinity more often than 150',
        pass: (b125.affinityBreaks as number) > (b150.affinityBreaks as number),
        detail: `affinity breaks: bounded-125 ${b125.affinityBreaks}, bounded-150 ${b150.affinityBreaks}`,
      });
    return out;
  },
});
