import { createPlacement, type KeyPlacement, type PlacementSpec } from '@dsim/components';
import { DsimError, showValue } from '@dsim/core';
import type { z } from 'zod';
import { checkActivator, checkScaleToZero } from './activator-check.js';
import { AMQP_DEFAULTS, type AmqpDescription, amqpAddresses } from './amqp-schema.js';
import { checkAutoscale } from './autoscale-check.js';
import type { BalancerDescription } from './balancer-schema.js';
import { cdnOfTarget } from './cdn.js';
import { cdnAddresses } from './cdn-schema.js';
import { checkBalancerDiscovery, checkShutdownFaults } from './discovery-check.js';
import { durationMs } from './distributions.js';
import { checkClientRequests, checkGateway, checkStrangler } from './gateway-check.js';
import { checkGlobalRateLimit, checkStoreLimits } from './global-rate-limit-check.js';
import { KAFKA_DEFAULTS, type KafkaDescription, kafkaAddresses } from './kafka-schema.js';
import { checkMesh } from './mesh-check.js';
import { checkSaga } from './saga-check.js';
import { DEFAULT_CACHE_PLACEMENT, type SystemDescription, systemSchema } from './schema.js';

/** One defect of a description: where (`nodes.app.downstream[1].timeout`) and what. */
export interface SystemIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * A description that is not a valid system. `issues` lists every defect found; the message has one line
 * per issue, each starting with its path.
 *
 * @example
 * ```ts
 * try { validateSystem(data); } catch (e) { if (e instanceof SystemError) console.log(e.issues[0].path); }
 * ```
 */
export class SystemError extends Error {
  constructor(readonly issues: readonly SystemIssue[]) {
    super(`invalid system:\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`);
    this.name = 'SystemError';
  }
}

/** `path: message`, or the message alone at the root. */
export function formatIssue(i: SystemIssue): string {
  return i.path === '' ? i.message : `${i.path}: ${i.message}`;
}

/** `nodes.app.downstream[1].timeout` from a path array. */
export function pathString(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else s += s === '' ? String(p) : `.${String(p)}`;
  }
  return s;
}

/** Closest of `options` to `word` within an edit distance of a third of its length (at least 2). */
export function didYouMean(word: string, options: Iterable<string>): string {
  let best = '';
  let bestD = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const o of options) {
    const d = editDistance(word, o);
    if (d < bestD) {
      best = o;
      bestD = d;
    }
  }
  return best === '' ? '' : ` (did you mean "${best}"?)`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** Turns zod issues into path-named ones; a union reports the branch that got furthest. */
function fromZod(
  data: unknown,
  issues: readonly z.core.$ZodIssue[],
  out: SystemIssue[],
  base: readonly PropertyKey[] = [],
): void {
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const deep = issue.errors.filter((e) => !wrongType(e));
      if (deep.length > 0) {
        fromZod(data, deep.sort((a, b) => a.length - b.length)[0]!, out, path);
        continue;
      }
      if (valueAt(data, path) === undefined) {
        out.push({ path: pathString(path), message: 'required, but missing' });
        continue;
      }
    }
    if (issue.code === 'invalid_key') {
      // A record's key failed its own schema (a topic or node name): say why, not just "invalid key".
      const inner = issue.issues[0]?.message ?? issue.message;
      out.push({ path: pathString(path), message: `this name ${inner}` });
      continue;
    }
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const known = knownKeys(data, path);
        out.push({ path: pathString([...path, key]), message: `unknown key${didYouMean(key, known)}` });
      }
      continue;
    }
    out.push({
      path: pathString(path),
      message: `${issue.message}${got(data, path)}${closeValue(data, path, issue)}`,
    });
  }
}

/** The value the user wrote at `path`; undefined when the path is missing. */
function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let at: unknown = data;
  for (const key of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

/** A "did you mean" for a misspelt option of an enum (`crossZon` for `crossZone`). */
function closeValue(data: unknown, path: readonly PropertyKey[], issue: z.core.$ZodIssue): string {
  if (issue.code !== 'invalid_value') return '';
  const at = valueAt(data, path);
  if (typeof at !== 'string') return '';
  return didYouMean(
    at,
    issue.values.filter((v): v is string => typeof v === 'string'),
  );
}

/** A union branch that failed only because the value is of another type (nested unions included). */
function wrongType(issues: readonly z.core.$ZodIssue[]): boolean {
  return issues.every(
    (x) =>
      x.path.length === 0 &&
      (x.code === 'invalid_type' || (x.code === 'invalid_union' && x.errors.every(wrongType))),
  );
}

/** `, got <value>` for the value the user wrote at `path` (nothing when the path is missing). */
function got(data: unknown, path: readonly PropertyKey[]): string {
  const at = valueAt(data, path);
  return at === undefined ? '' : `, got ${showValue(at)}`;
}

// zod's unrecognized_keys issue does not carry the allowed keys: walk the schema along the path.
type Def = Record<string, unknown> & { type: string };
const defOf = (schema: unknown): Def | undefined =>
  (schema as { _zod?: { def?: Def } } | undefined)?._zod?.def;

function knownKeys(root: unknown, path: readonly PropertyKey[]): string[] {
  let schema: unknown = systemSchema;
  let data = root;
  for (let i = 0; i <= path.length; i++) {
    schema = unwrap(schema, data);
    const def = defOf(schema);
    if (def === undefined) return [];
    if (i === path.length) return def.type === 'object' ? Object.keys(def.shape as object) : [];
    const seg = path[i]!;
    data = (data as Record<PropertyKey, unknown> | undefined)?.[seg];
    if (def.type === 'object') schema = (def.shape as Record<PropertyKey, unknown>)[seg];
    else if (def.type === 'record') schema = def.valueType;
    else if (def.type === 'array') schema = def.element;
    else return [];
  }
  return [];
}

/** Through optionals and unions (the object branch; for a discriminated union, the one whose kind matches). */
function unwrap(schema: unknown, data: unknown): unknown {
  for (;;) {
    const def = defOf(schema);
    if (def === undefined) return schema;
    if (def.type === 'optional' || def.type === 'nullable') schema = def.innerType;
    else if (def.type === 'pipe') schema = def.in;
    else if (def.type === 'union') {
      const options = def.options as unknown[];
      const kind = (data as { kind?: unknown } | undefined)?.kind;
      const objects = options.filter((o) => {
        const d = defOf(unwrap(o, undefined));
        return d?.type === 'object' || d?.type === 'union';
      });
      const match = objects.find((o) => {
        const shape = defOf(o)?.shape as Record<string, unknown> | undefined;
        const values = (defOf(shape?.kind)?.values as unknown[] | undefined) ?? [];
        return values.includes(kind);
      });
      schema = match ?? objects[0];
      if (schema === undefined) return undefined;
    } else return schema;
  }
}

/**
 * Checks a description: the schema (types, ranges, unknown keys), then the references between nodes
 * (targets, backends, downstream calls, caches, edges, regions, faults), and cycles of calls. Throws a
 * {@link SystemError} naming the path of every defect; returns the description, typed.
 *
 * @example
 * ```ts
 * const system = validateSystem(YAML.parse(text));
 * ```
 */
export function validateSystem(data: unknown): SystemDescription {
  const parsed = systemSchema.safeParse(data);
  const issues: SystemIssue[] = [];
  if (!parsed.success) {
    fromZod(data, parsed.error.issues, issues);
    throw new SystemError(issues);
  }
  checkReferences(data as SystemDescription, issues);
  if (issues.length > 0) throw new SystemError(issues);
  return data as SystemDescription;
}

/**
 * Addresses of a node: `<name>-i` for a replicated service or a consumer group of several instances;
 * a kafka node's brokers, controller and coordinator; else the name.
 */
export function addressesOf(system: SystemDescription, name: string): string[] {
  const n = system.nodes[name];
  // An autoscaled service: the replicas at the start (its pool names them `<name>-i`, even one).
  if (n?.kind === 'service' && (n.autoscale !== undefined || (n.replicas ?? 1) > 1))
    return Array.from({ length: n.replicas ?? 1 }, (_, i) => `${name}-${i}`);
  if (n?.kind === 'consumer' && (n.instances ?? 1) > 1)
    return Array.from({ length: n.instances! }, (_, i) => `${name}-${i}`);
  if (n?.kind === 'cache' && (n.shards ?? 1) > 1)
    return Array.from({ length: n.shards! }, (_, i) => `${name}-${i}`);
  if (n?.kind === 'kafka') return kafkaAddresses(name, n);
  if (n?.kind === 'amqp') return amqpAddresses(name, n);
  if (n?.kind === 'cdn') return cdnAddresses(name, n);
  if (n?.kind === 'worker' && (n.instances ?? 1) > 1)
    return Array.from({ length: n.instances! }, (_, i) => `${name}-${i}`);
  return [name];
}

/**
 * The key placement of a sharded cache node over its shards' addresses (`placement`, or
 * {@link DEFAULT_CACHE_PLACEMENT}); null for a single-shard cache. A bad option throws a
 * {@link SystemError} at `nodes.<name>.placement.<option>`.
 *
 * @example
 * ```ts
 * cachePlacement(system, 'cache')?.lookup('k42'); // 'cache-1'
 * ```
 */
export function cachePlacement(system: SystemDescription, name: string): KeyPlacement | null {
  const node = system.nodes[name];
  if (node?.kind !== 'cache' || (node.shards ?? 1) <= 1) return null;
  const nodes = addressesOf(system, name);
  try {
    return createPlacement({ ...(node.placement ?? DEFAULT_CACHE_PLACEMENT), nodes } as PlacementSpec);
  } catch (e) {
    const field = e instanceof DsimError ? e.details.field : undefined;
    const own = typeof field === 'string' && field in (node.placement ?? {});
    // createPlacement's message starts `createPlacement: <field> `; the path names what it can.
    const prefix = own ? `createPlacement: ${field} ` : 'createPlacement: ';
    const message = (e as Error).message.replace(prefix, '');
    throw new SystemError([{ path: `nodes.${name}.placement${own ? `.${field}` : ''}`, message }]);
  }
}

const NO_RETRIES = 'has no effect without `retries`: give the caller retries, or drop it';

function checkReferences(system: SystemDescription, issues: SystemIssue[]): void {
  const names = Object.keys(system.nodes);
  const addresses = new Set(names.flatMap((n) => addressesOf(system, n)));
  const edges = new Map<string, { to: string; path: string }[]>();
  const push = (path: string, message: string): void => void issues.push({ path, message });
  const ref = (path: string, from: string, to: string, allowed: readonly string[], what: string): void => {
    const node = system.nodes[to];
    if (node === undefined) {
      push(path, `no node named "${to}"${didYouMean(to, names)}`);
      return;
    }
    if (!allowed.includes(node.kind)) {
      push(path, `"${to}" is a ${node.kind}; ${what} must be a ${allowed.join(' or ')}`);
      return;
    }
    if (what !== 'a backend' && node.kind === 'service' && (node.replicas ?? 1) > 1) {
      push(path, `"${to}" has ${node.replicas} replicas; put a balancer in front of it`);
      return;
    }
    if (what !== 'a backend' && node.kind === 'service' && node.autoscale !== undefined) {
      push(path, `"${to}" is autoscaled; call the balancer in front of it`);
      return;
    }
    let list = edges.get(from);
    if (list === undefined) edges.set(from, (list = []));
    list.push({ to, path });
  };
  const callable = ['balancer', 'service', 'database'] as const;
  const queueRef = (path: string, amqp: string, queue: string): void => {
    const queues = Object.keys((system.nodes[amqp] as AmqpDescription).queues);
    if (!queues.includes(queue))
      push(
        path,
        `amqp "${amqp}" has no queue "${queue}"${didYouMean(queue, queues)}; its queues: ${queues.join(', ')}`,
      );
  };
  const topicRef = (path: string, kafka: string, topic: string): void => {
    const topics = Object.keys((system.nodes[kafka] as KafkaDescription).topics);
    if (!topics.includes(topic))
      push(
        path,
        `kafka "${kafka}" has no topic "${topic}"${didYouMean(topic, topics)}; its topics: ${topics.join(', ')}`,
      );
  };
  for (const [name, node] of Object.entries(system.nodes)) {
    const at = `nodes.${name}`;
    // Another node's replica, shard or broker with this name would be added to the network twice.
    if (names.some((o) => o !== name && addressesOf(system, o).includes(name)))
      push(at, `"${name}" is also a replica's address`);
    switch (node.kind) {
      case 'clients': {
        // A cdn's PoP (`cdn-1`) is a target too: the clients near that PoP.
        const cdn = cdnOfTarget(system, node.target);
        ref(
          `${at}.target`,
          name,
          cdn ?? node.target,
          [...callable, 'cdn', 'gateway', 'strangler', 'activator', 'saga'],
          'a target',
        );
        checkClientRequests(system, at, node, push);
        if (cdn !== null && node.keys === undefined)
          push(
            `${at}.keys`,
            `cdn "${cdn}" serves objects by key: give the clients \`keys\` (the object paths)`,
          );
        if (durationMs(node.until) <= durationMs(node.from ?? 0)) push(`${at}.until`, 'must be after `from`');
        if (node.retryOn !== undefined && (node.retries ?? 0) === 0) push(`${at}.retryOn`, NO_RETRIES);
        if (node.retryAfter !== undefined && (node.retries ?? 0) === 0) push(`${at}.retryAfter`, NO_RETRIES);
        break;
      }
      case 'cdn':
        ref(`${at}.origin`, name, node.origin, callable, 'a cdn origin');
        break;
      case 'gateway':
        checkGateway(at, name, node, ref, push);
        break;
      case 'strangler':
        checkStrangler(at, name, node, ref, push);
        break;
      case 'activator':
        checkActivator(system, at, name, node, ref, push);
        break;
      case 'saga':
        checkSaga(at, name, node, ref, push);
        break;
      case 'balancer': {
        const seen = new Set<string>();
        node.backends.forEach((b, i) => {
          if (seen.has(b)) push(`${at}.backends[${i}]`, `"${b}" is listed twice`);
          seen.add(b);
          ref(`${at}.backends[${i}]`, name, b, ['service', 'database'], 'a backend');
        });
        checkBalancer(system, at, node, push);
        checkBalancerDiscovery(system, at, name, node, ref, push);
        break;
      }
      case 'service': {
        checkAutoscale(system, at, name, node, push);
        checkScaleToZero(system, at, name, node, push);
        checkGlobalRateLimit(at, name, node, ref, push);
        node.downstream?.forEach((c, i) => {
          const path = `${at}.downstream[${i}]`;
          const target = system.nodes[c.to];
          // A call that names a queue or a topic publishes (to an amqp or kafka node); any other calls.
          const publishes =
            target?.kind === 'amqp' || c.queue !== undefined
              ? 'amqp'
              : target?.kind === 'kafka' || c.topic !== undefined
                ? 'kafka'
                : null;
          if (publishes === null) ref(`${path}.to`, name, c.to, callable, 'a downstream call');
          else {
            const field = publishes === 'amqp' ? 'queue' : 'topic';
            ref(`${path}.to`, name, c.to, [publishes], `a publishing call (with \`${field}\`)`);
            const named = c[field];
            if (target?.kind === publishes) {
              if (named === undefined)
                push(
                  `${path}.${field}`,
                  `a call to ${publishes} "${c.to}" publishes: name one of its ${field}s`,
                );
              else if (publishes === 'amqp') queueRef(`${path}.queue`, c.to, named);
              else topicRef(`${path}.topic`, c.to, named);
            }
            const other = publishes === 'amqp' ? 'topic' : 'queue';
            for (const k of [
              'pool',
              'retries',
              'backoff',
              'budget',
              'breaker',
              'retryAfter',
              'onlyFrom',
              other,
            ] as const)
              if (c[k] !== undefined)
                push(
                  `${path}.${k}`,
                  publishes === 'kafka'
                    ? "not on a publishing call: the producer retries itself (Kafka's retries and delivery.timeout.ms)"
                    : 'not on a call that publishes to a queue',
                );
          }
          if (c.acks !== undefined && publishes !== 'kafka')
            push(`${path}.acks`, 'applies to a publishing call: give it a `topic`');
          if (c.persistent !== undefined && publishes !== 'amqp')
            push(`${path}.persistent`, 'applies to a call that publishes to a queue: give it a `queue`');
          if (c.retryOn !== undefined && (c.retries ?? 0) === 0)
            push(`${at}.downstream[${i}].retryOn`, NO_RETRIES);
          if (c.retryAfter !== undefined && (c.retries ?? 0) === 0)
            push(`${at}.downstream[${i}].retryAfter`, NO_RETRIES);
          c.onlyFrom?.forEach((n, j) => {
            if (!(n in system.nodes))
              push(`${at}.downstream[${i}].onlyFrom[${j}]`, `no node named "${n}"${didYouMean(n, names)}`);
          });
        });
        if (node.bulkhead !== undefined && (node.downstream?.length ?? 0) === 0)
          push(`${at}.bulkhead`, 'bounds downstream calls: give the service `downstream` calls, or drop it');
        if (node.propagateDeadline !== undefined && (node.downstream?.length ?? 0) === 0)
          push(
            `${at}.propagateDeadline`,
            'applies to downstream calls: give the service `downstream` calls, or drop it',
          );
        if (node.cacheAside !== undefined) {
          ref(`${at}.cacheAside.cache`, name, node.cacheAside.cache, ['cache'], 'cacheAside.cache');
          if ((node.downstream?.length ?? 0) !== 1)
            push(
              `${at}.downstream`,
              'with cacheAside, exactly one downstream call (the origin that loads a miss)',
            );
        }
        break;
      }
      case 'kafka': {
        const brokers = node.brokers ?? KAFKA_DEFAULTS.brokers;
        for (const [topic, t] of Object.entries(node.topics)) {
          const rf = t.replicationFactor ?? Math.min(3, brokers);
          if (rf > brokers)
            push(`${at}.topics.${topic}.replicationFactor`, `at most the brokers (${brokers}), got ${rf}`);
          if (t.minInsyncReplicas !== undefined && t.minInsyncReplicas > rf)
            push(
              `${at}.topics.${topic}.minInsyncReplicas`,
              `at most the replication factor (${rf}), got ${t.minInsyncReplicas}: no write could succeed`,
            );
        }
        if (Object.keys(node.topics).length === 0) push(`${at}.topics`, 'must name at least one topic');
        break;
      }
      case 'amqp': {
        const brokers = node.brokers ?? AMQP_DEFAULTS.brokers;
        const queues = Object.keys(node.queues);
        // A choreographed saga declares its own queues on the broker.
        const sagaBus = Object.values(system.nodes).some(
          (n) => n.kind === 'saga' && n.choreography?.amqp === name,
        );
        if (queues.length === 0 && !sagaBus) push(`${at}.queues`, 'must name at least one queue');
        for (const [q, spec] of Object.entries(node.queues)) {
          const qat = `${at}.queues.${q}`;
          if (spec.deadLetter !== undefined) {
            if (spec.deadLetter === q) push(`${qat}.deadLetter`, 'a queue cannot dead-letter into itself');
            else if (!queues.includes(spec.deadLetter))
              push(
                `${qat}.deadLetter`,
                `no queue "${spec.deadLetter}" on "${name}"${didYouMean(spec.deadLetter, queues)}`,
              );
          }
          const quorum = spec.type === 'quorum';
          for (const k of ['deliveryLimit', 'replicas'] as const)
            if (spec[k] !== undefined && !quorum)
              push(`${qat}.${k}`, 'applies to quorum queues: set `type: quorum`');
          if (quorum && (spec.replicas ?? 3) > brokers)
            push(
              `${qat}.replicas`,
              `at most the brokers (${brokers}), got ${spec.replicas ?? 3}; give the node more brokers`,
            );
        }
        break;
      }
      case 'worker':
        ref(`${at}.source`, name, node.source, ['amqp'], 'a worker source');
        if (system.nodes[node.source]?.kind === 'amqp') queueRef(`${at}.queue`, node.source, node.queue);
        if (node.requeue !== undefined && (node.failureRate ?? 0) === 0)
          push(`${at}.requeue`, 'applies to failed deliveries: give the worker a `failureRate`');
        break;
      case 'cache':
        if (node.placement !== undefined && (node.shards ?? 1) === 1)
          push(`${at}.placement`, 'places keys over shards: give the cache `shards` > 1, or drop it');
        try {
          cachePlacement(system, name);
        } catch (e) {
          if (!(e instanceof SystemError)) throw e;
          issues.push(...e.issues);
        }
        break;
      case 'consumer':
        ref(`${at}.source`, name, node.source, ['kafka'], 'a consumer source');
        if (system.nodes[node.source]?.kind === 'kafka') topicRef(`${at}.topic`, node.source, node.topic);
        break;
      default:
        break;
    }
  }
  // A call graph with a cycle never settles (every request calls itself again).
  const state = new Map<string, 'open' | 'done'>();
  const visit = (n: string, trail: string[]): void => {
    state.set(n, 'open');
    for (const e of edges.get(n) ?? []) {
      if (state.get(e.to) === 'open') {
        const cycle = [...trail.slice(trail.indexOf(e.to)), e.to].join(' -> ');
        push(e.path, `calls form a cycle: ${cycle}`);
      } else if (!state.has(e.to)) visit(e.to, [...trail, e.to]);
    }
    state.set(n, 'done');
  };
  for (const n of names) if (!state.has(n)) visit(n, [n]);
  checkClientsReachable(system, issues);
  checkMesh(system, push);
  checkStoreLimits(system, push);
  checkShutdownFaults(system, push);
  const net = system.network;
  for (const key of Object.keys(net?.edges ?? {})) {
    const pair = key.split('->');
    if (pair.length !== 2) push(`network.edges.${key}`, 'must be "a->b"');
    else
      for (const n of pair)
        if (!(n in system.nodes) && !addresses.has(n))
          push(`network.edges.${key}`, `no node named "${n}"${didYouMean(n, names)}`);
  }
  const regions = new Set(
    Object.values(system.nodes).flatMap((n) => (n.region === undefined ? [] : [n.region])),
  );
  for (const key of Object.keys(net?.regions ?? {})) {
    const pair = key.split('->');
    if (pair.length !== 2) push(`network.regions.${key}`, 'must be "regionA->regionB"');
    else
      for (const r of pair)
        if (!regions.has(r))
          push(`network.regions.${key}`, `no node is in region "${r}"${didYouMean(r, regions)}`);
  }
  system.faults?.forEach((f, i) => {
    const fault = f.fault as Record<string, unknown>;
    for (const k of ['node', 'a', 'b'] as const) {
      const v = fault[k];
      for (const n of typeof v === 'string' ? [v] : Array.isArray(v) ? (v as unknown[]) : []) {
        if (typeof n === 'string' && !addresses.has(n))
          push(`faults[${i}].fault.${k}`, `no node named "${n}"${didYouMean(n, addresses)}`);
      }
    }
  });
}

/** A balancer's options that depend on each other or on its backends. */
function checkBalancer(
  system: SystemDescription,
  at: string,
  node: BalancerDescription,
  push: (path: string, message: string) => void,
): void {
  const known = node.backends.filter((b) => b in system.nodes);
  const addresses = known.flatMap((b) => addressesOf(system, b));
  const names = [...new Set([...known, ...addresses])];
  for (const key of Object.keys(node.weights ?? {}))
    if (!names.includes(key))
      push(`${at}.weights.${key}`, `"${key}" is not one of the backends${didYouMean(key, names)}`);
  const policy = node.policy;
  if (typeof policy === 'object' && policy.kind === 'maglev' && policy.tableSize !== undefined)
    if (policy.tableSize <= addresses.length)
      push(`${at}.policy.tableSize`, `must be above the backend count (${addresses.length})`);
  if (node.hedge?.onPerTryTimeout === true && node.retry?.perTryTimeout === undefined)
    push(
      `${at}.hedge.onPerTryTimeout`,
      'a hedge is sent when the per-try timeout fires: give the balancer `retry: { perTryTimeout }`',
    );
  if (
    node.slowStart !== undefined &&
    node.health === undefined &&
    node.outlierDetection === undefined &&
    node.maxFails === undefined
  )
    push(
      `${at}.slowStart`,
      'a backend slow-starts when it comes back: give the balancer `health`, `outlierDetection` or `maxFails`',
    );
}

/** A system with no clients does nothing: say so rather than run an empty simulation. */
function checkClientsReachable(system: SystemDescription, issues: SystemIssue[]): void {
  if (!Object.values(system.nodes).some((n) => n.kind === 'clients'))
    issues.push({ path: 'nodes', message: 'no clients node: nothing would send a request' });
}
