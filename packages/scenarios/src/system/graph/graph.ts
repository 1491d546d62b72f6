import { AMQP_DEFAULTS } from '../amqp-schema.js';
import { KAFKA_DEFAULTS } from '../kafka-schema.js';
import type { SystemDescription } from '../schema.js';
import { validateSystem } from '../validate.js';

/** The kinds of node a system has (the `kind` of a {@link SystemDescription} node). */
export const SYSTEM_NODE_KINDS = [
  'clients',
  'balancer',
  'service',
  'database',
  'cache',
  'kafka',
  'consumer',
  'amqp',
  'worker',
  'cdn',
  'gateway',
  'strangler',
  'activator',
  'rate-limit-store',
  'eureka',
  'saga',
  'saga-participant',
] as const;
/** A node's kind. */
export type SystemNodeKind = (typeof SYSTEM_NODE_KINDS)[number];

/**
 * What a call is: `request` (clients → target), `backend` (balancer → backend), `cache-aside`
 * (service → its cache), `downstream` (service → a downstream call; with cache-aside, the miss load),
 * `publish` (service → kafka or amqp), `consume` (kafka → a consumer group, amqp → its workers),
 * `origin` (cdn → its origin: the misses), `route` (gateway → a route's backend or part, strangler → a
 * migrated route's new service), `auth` (gateway → its authorizer), `legacy` (strangler → the legacy
 * system), `activate` (activator → the balancer it forwards to, waking the service behind it), `limit`
 * (service → the rate limit store its global limit counts in), `discover` (balancer → the eureka server
 * its client fetches from), `register` (service → the eureka server its replicas register with),
 * `command` (saga → a participant of its steps).
 */
export const SYSTEM_EDGE_LABELS = [
  'request',
  'backend',
  'cache-aside',
  'downstream',
  'publish',
  'consume',
  'origin',
  'route',
  'auth',
  'legacy',
  'activate',
  'limit',
  'discover',
  'register',
  'command',
] as const;
/** An edge's label. */
export type SystemEdgeLabel = (typeof SYSTEM_EDGE_LABELS)[number];

/** One node of a {@link SystemGraph}: a node of the description (a replicated service is one node). */
export interface SystemGraphNode {
  readonly name: string;
  readonly kind: SystemNodeKind;
  /**
   * Copies: a service's replicas, a cache's shards, a cluster's brokers, a group's instances, a cdn's
   * PoPs; else 1.
   */
  readonly replicas: number;
}

/** One call path of a {@link SystemGraph}, between node names. */
export interface SystemGraphEdge {
  readonly from: string;
  readonly to: string;
  readonly label: SystemEdgeLabel;
}

/** Who calls whom in a system: the input of the exporters (toMermaid, toDot, toSvg). */
export interface SystemGraph {
  /** The description's `name`, if it has one. */
  readonly name?: string;
  /** Callers before the nodes they call (by depth from the clients), then by name. */
  readonly nodes: readonly SystemGraphNode[];
  /** By caller (in node order), then in the caller's order: target, backends, cache, downstream. */
  readonly edges: readonly SystemGraphEdge[];
}

/**
 * The graph of a system: one node per described node (a replicated service is one node with its
 * `replicas`), one edge per call path. The description is validated first (a {@link SystemError}
 * otherwise). A backend that names a replica (`app-2`) is drawn to its service (`app`); a path given
 * twice is drawn once. Network links and faults are not drawn. Key order in the description does not
 * change the graph.
 *
 * @example
 * ```ts
 * const graph = systemGraph(loadSystem('three-tier.yaml'));
 * graph.edges[0]; // { from: 'users', to: 'lb', label: 'request' }
 * ```
 */
export function systemGraph(description: SystemDescription): SystemGraph {
  const system = validateSystem(description);
  const names = Object.keys(system.nodes).sort(compare);
  const nodes: SystemGraphNode[] = names.map((name) => {
    const node = system.nodes[name]!;
    const replicas =
      node.kind === 'service'
        ? // A service that scales to zero is drawn as one.
          Math.max(1, node.replicas ?? 1)
        : node.kind === 'kafka'
          ? (node.brokers ?? KAFKA_DEFAULTS.brokers)
          : node.kind === 'consumer' || node.kind === 'worker'
            ? (node.instances ?? 1)
            : node.kind === 'amqp'
              ? (node.brokers ?? AMQP_DEFAULTS.brokers)
              : node.kind === 'cdn'
                ? (node.pops ?? 1)
                : 1;
    // A sharded cache is one node drawn with its shards (`cache ×3`), as a service with its replicas.
    return { name, kind: node.kind, replicas: node.kind === 'cache' ? (node.shards ?? 1) : replicas };
  });
  /** A replica's address (`app-2`) to its service's name. */
  const owner = new Map<string, string>();
  for (const n of nodes)
    for (let i = 0; i < n.replicas && n.replicas > 1; i++) owner.set(`${n.name}-${i}`, n.name);
  const resolveName = (to: string) => (Object.hasOwn(system.nodes, to) ? to : (owner.get(to) ?? to));

  const edges: SystemGraphEdge[] = [];
  const seen = new Set<string>();
  const add = (from: string, to: string, label: SystemEdgeLabel) => {
    const edge = { from, to: resolveName(to), label };
    const key = JSON.stringify([edge.from, edge.to, label]);
    if (seen.has(key)) return;
    seen.add(key);
    edges.push(edge);
  };
  for (const name of names) {
    const node = system.nodes[name]!;
    if (node.kind === 'clients') add(name, node.target, 'request');
    else if (node.kind === 'balancer') {
      for (const b of node.backends) add(name, b, 'backend');
      const d = node.discovery;
      if (d?.kind === 'eureka') {
        add(name, d.server, 'discover');
        for (const b of node.backends) add(b, d.server, 'register');
      }
    } else if (node.kind === 'service') {
      if (node.cacheAside !== undefined) add(name, node.cacheAside.cache, 'cache-aside');
      const g = node.globalRateLimit;
      if (g !== undefined && g.kind !== 'local-share') add(name, g.store, 'limit');
      for (const call of node.downstream ?? [])
        add(name, call.to, call.topic === undefined && call.queue === undefined ? 'downstream' : 'publish');
    } else if (node.kind === 'consumer' || node.kind === 'worker') add(node.source, name, 'consume');
    else if (node.kind === 'cdn') add(name, node.origin, 'origin');
    else if (node.kind === 'gateway') {
      for (const r of node.routes) {
        if (r.to !== undefined) add(name, r.to, 'route');
        for (const p of r.aggregate ?? []) add(name, p.to, 'route');
      }
      if (node.auth?.service !== undefined) add(name, node.auth.service, 'auth');
    } else if (node.kind === 'strangler') {
      add(name, node.legacy, 'legacy');
      for (const r of node.routes) add(name, r.to, 'route');
    } else if (node.kind === 'activator') add(name, node.target, 'activate');
    else if (node.kind === 'saga') {
      const bus = node.choreography?.amqp;
      // Orchestration commands each participant; choreography publishes events the participants consume.
      if (bus === undefined) for (const s of node.steps) add(name, s.participant, 'command');
      else {
        add(name, bus, 'publish');
        for (const s of node.steps) add(bus, s.participant, 'consume');
      }
    }
  }
  // Depth: the longest call path from a node nobody calls (calls form no cycle: validateSystem).
  const depth = new Map<string, number>(names.map((n) => [n, 0]));
  for (let changed = true, rounds = 0; changed && rounds <= names.length; rounds++) {
    changed = false;
    for (const e of edges) {
      const d = depth.get(e.from)! + 1;
      if (d > depth.get(e.to)!) {
        depth.set(e.to, d);
        changed = true;
      }
    }
  }
  const order = (a: string, b: string) => depth.get(a)! - depth.get(b)! || compare(a, b);
  nodes.sort((a, b) => order(a.name, b.name));
  const rank = new Map(nodes.map((n, i) => [n.name, i]));
  const sorted = edges
    .map((e, i) => ({ e, i }))
    .sort((a, b) => rank.get(a.e.from)! - rank.get(b.e.from)! || a.i - b.i)
    .map(({ e }) => e);
  return { ...(system.name === undefined ? {} : { name: system.name }), nodes, edges: sorted };
}

/** Code-unit order: the same on every machine and locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Checks a graph built by hand (the exporters accept any {@link SystemGraph}): unique node names,
 * known kinds and labels, whole replicas ≥ 1, and edges between existing nodes. Throws a TypeError
 * naming the first defect.
 *
 * @example
 * ```ts
 * checkGraph({ nodes: [{ name: 'db', kind: 'database', replicas: 1 }], edges: [] });
 * ```
 */
export function checkGraph(graph: SystemGraph): void {
  if (
    graph === null ||
    typeof graph !== 'object' ||
    !Array.isArray(graph.nodes) ||
    !Array.isArray(graph.edges)
  )
    throw new TypeError('a system graph needs nodes and edges arrays (see systemGraph)');
  if (graph.name !== undefined && typeof graph.name !== 'string')
    throw new TypeError('a system graph name must be a string');
  const names = new Set<string>();
  for (const [i, n] of graph.nodes.entries()) {
    if (typeof n?.name !== 'string' || n.name === '')
      throw new TypeError(`nodes[${i}].name must be a non-empty string`);
    if (names.has(n.name)) throw new TypeError(`nodes[${i}]: node ${JSON.stringify(n.name)} is given twice`);
    names.add(n.name);
    if (!(SYSTEM_NODE_KINDS as readonly string[]).includes(n.kind))
      throw new TypeError(
        `nodes[${i}].kind must be one of ${SYSTEM_NODE_KINDS.join(', ')}, got ${JSON.stringify(n.kind)}`,
      );
    if (!Number.isInteger(n.replicas) || n.replicas < 1)
      throw new TypeError(
        `nodes[${i}].replicas must be a whole number >= 1, got ${JSON.stringify(n.replicas)}`,
      );
  }
  for (const [i, e] of graph.edges.entries()) {
    for (const end of ['from', 'to'] as const)
      if (!names.has(e?.[end]))
        throw new TypeError(`edges[${i}].${end}: no node named ${JSON.stringify(e?.[end])}`);
    if (!(SYSTEM_EDGE_LABELS as readonly string[]).includes(e.label))
      throw new TypeError(
        `edges[${i}].label must be one of ${SYSTEM_EDGE_LABELS.join(', ')}, got ${JSON.stringify(e.label)}`,
      );
  }
}

/** The text a node is drawn with: its name, and `×4` for four replicas. */
export function nodeText(node: SystemGraphNode): string {
  return node.replicas > 1 ? `${node.name} ×${node.replicas}` : node.name;
}

/**
 * Ids for the nodes, unique and made of `[A-Za-z0-9_]` only, starting with a letter, never a word
 * that `reserved` lists (case-insensitive): the name itself when it already is one.
 */
export function nodeIds(graph: SystemGraph, reserved: readonly string[] = []): Map<string, string> {
  const taken = new Set(reserved.map((r) => r.toLowerCase()));
  const ids = new Map<string, string>();
  for (const n of graph.nodes) {
    let base = n.name.replace(/[^A-Za-z0-9_]/g, '_');
    if (!/^[A-Za-z]/.test(base)) base = `n_${base}`;
    let id = base;
    for (let k = 2; taken.has(id.toLowerCase()); k++) id = `${base}_${k}`;
    taken.add(id.toLowerCase());
    ids.set(n.name, id);
  }
  return ids;
}
