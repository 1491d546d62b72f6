import { checkGraph, nodeText, type SystemGraph, type SystemNodeKind } from './graph.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/g;

/** Graphviz attributes of each kind's shape. */
const SHAPES: Record<SystemNodeKind, string> = {
  clients: 'shape=oval, fillcolor="#e8f0fe", color="#4a6fa5"',
  balancer: 'shape=hexagon, fillcolor="#fff4e0", color="#b7791f"',
  service: 'shape=box, style="rounded,filled", fillcolor="#e6f4ea", color="#2f855a"',
  database: 'shape=cylinder, fillcolor="#f3e8fd", color="#6b46c1"',
  cache: 'shape=parallelogram, fillcolor="#fde8e8", color="#c53030"',
  kafka: 'shape=box3d, fillcolor="#e6fffa", color="#2c7a7b"',
  consumer: 'shape=cds, fillcolor="#fefcbf", color="#975a16"',
  amqp: 'shape=cylinder, fillcolor="#fff5f7", color="#b83280"',
  worker: 'shape=cds, fillcolor="#fefcbf", color="#975a16"',
  cdn: 'shape=doubleoctagon, fillcolor="#ebf8ff", color="#2b6cb0"',
  gateway: 'shape=hexagon, fillcolor="#faf5ff", color="#553c9a"',
  strangler: 'shape=invtrapezium, fillcolor="#f0fff4", color="#276749"',
  activator: 'shape=component, fillcolor="#fffff0", color="#744210"',
  'rate-limit-store': 'shape=cylinder, fillcolor="#fff5f5", color="#9b2c2c"',
  eureka: 'shape=tab, fillcolor="#f0f5ff", color="#434190"',
  saga: 'shape=octagon, fillcolor="#fefcbf", color="#744210"',
  'saga-participant': 'shape=box, fillcolor="#e6f4ea", color="#2f855a"',
};

/**
 * A DOT quoted string: `\` and `"` escaped (so `\n`, `\N` and friends in a name stay literal), line
 * breaks and other control characters as spaces.
 */
export function dotString(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`).replace(CONTROL, ' ')}"`;
}

/**
 * The graph as Graphviz DOT (`dot -Tsvg`): a `digraph` laid out left to right, a shape per kind (clients
 * an oval, balancer a hexagon, service a rounded box, database a cylinder, cache a parallelogram, kafka a
 * 3-D box, amqp a cylinder, consumer and worker a cds shape, cdn a double octagon, gateway a hexagon,
 * strangler an inverted trapezium, activator a component box), the
 * call kind on each edge. Every id and label is a quoted, escaped string. Deterministic.
 *
 * @example
 * ```ts
 * writeFileSync('system.dot', toDot(systemGraph(loadSystem('three-tier.yaml'))));
 * ```
 */
export function toDot(graph: SystemGraph): string {
  checkGraph(graph);
  const lines = [`digraph ${dotString(graph.name ?? 'system')} {`];
  if (graph.name !== undefined) lines.push(`  label=${dotString(graph.name)};`, '  labelloc=t;');
  lines.push(
    '  rankdir=LR;',
    '  node [style=filled, fontname="Helvetica", fontsize=12];',
    '  edge [fontname="Helvetica", fontsize=10, color="#555555"];',
  );
  for (const n of graph.nodes)
    lines.push(`  ${dotString(n.name)} [label=${dotString(nodeText(n))}, ${SHAPES[n.kind]}];`);
  for (const e of graph.edges)
    lines.push(`  ${dotString(e.from)} -> ${dotString(e.to)} [label=${dotString(e.label)}];`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
