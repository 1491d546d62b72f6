import { checkGraph, nodeIds, nodeText, type SystemGraph, type SystemNodeKind } from './graph.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const LABEL_UNSAFE = /[\u0000-\u001f\u007f"<>&#`]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const YAML_UNSAFE = /[\u0000-\u001f\u007f-\u009f"\\<>&#`\u2028\u2029]/g;

/** Opening and closing brackets of each kind's shape. */
const SHAPES: Record<SystemNodeKind, readonly [string, string]> = {
  clients: ['([', '])'], // stadium
  balancer: ['{{', '}}'], // hexagon
  service: ['[', ']'], // rectangle
  database: ['[(', ')]'], // cylinder
  cache: ['[/', '/]'], // parallelogram
  kafka: ['[[', ']]'], // subroutine: a log
  consumer: ['>', ']'], // asymmetric: reads a stream
  amqp: ['[(', ')]'], // cylinder: a store of messages
  worker: ['>', ']'], // asymmetric: takes from a queue
  cdn: ['((', '))'], // circle: PoPs spread around the clients
  gateway: ['{{', '}}'], // hexagon: a proxy, as a balancer
  strangler: ['[\\', '/]'], // trapezoid: a facade narrowing onto two sides
  activator: ['[[', ']]'], // subroutine box: a proxy that holds requests
  'rate-limit-store': ['[(', ')]'], // cylinder: a store of counters
  eureka: ['[/', '\\]'], // trapezoid: a registry
  saga: ['{{', '}}'], // hexagon: a coordinator
  'saga-participant': ['[', ']'], // rectangle: a service
};

/** Fill and stroke of each kind (a classDef per kind). */
const STYLES: Record<SystemNodeKind, string> = {
  clients: 'fill:#e8f0fe,stroke:#4a6fa5',
  balancer: 'fill:#fff4e0,stroke:#b7791f',
  service: 'fill:#e6f4ea,stroke:#2f855a',
  database: 'fill:#f3e8fd,stroke:#6b46c1',
  cache: 'fill:#fde8e8,stroke:#c53030',
  kafka: 'fill:#e6fffa,stroke:#2c7a7b',
  consumer: 'fill:#fefcbf,stroke:#975a16',
  amqp: 'fill:#fff5f7,stroke:#b83280',
  worker: 'fill:#fefcbf,stroke:#975a16',
  cdn: 'fill:#ebf8ff,stroke:#2b6cb0',
  gateway: 'fill:#faf5ff,stroke:#553c9a',
  strangler: 'fill:#f0fff4,stroke:#276749',
  activator: 'fill:#fffff0,stroke:#744210',
  'rate-limit-store': 'fill:#fff5f5,stroke:#9b2c2c',
  eureka: 'fill:#f0f5ff,stroke:#434190',
  saga: 'fill:#fefcbf,stroke:#744210',
  'saga-participant': 'fill:#e6f4ea,stroke:#2f855a',
};

/** Words a flowchart node id must not be (the parser reads them as keywords). */
const RESERVED = [
  'end',
  'graph',
  'flowchart',
  'subgraph',
  'style',
  'class',
  'classDef',
  'click',
  'linkStyle',
  'direction',
  'call',
  'href',
  'default',
];

/**
 * Text inside a quoted mermaid label: `"`, `<`, `>`, `&`, `#`, backtick and control characters as
 * entity codes (`#34;`), so no name can close the label, open markup or inject a statement.
 */
export function mermaidText(text: string): string {
  return text.replace(LABEL_UNSAFE, (c) => `#${c.charCodeAt(0)};`);
}

/**
 * The graph as a mermaid `flowchart LR` (GitHub renders it in a ```` ```mermaid ```` block): a shape
 * per kind (clients a stadium, balancer a hexagon, service a rectangle, database a cylinder, cache a
 * parallelogram, kafka a subroutine box, amqp a cylinder, consumer and worker an asymmetric shape, cdn a circle, gateway a hexagon, activator a subroutine box, strangler an inverted
 * trapezoid), a classDef colour per kind, the call kind on each edge, the system's name as the
 * title. Ids are the names made safe (`[A-Za-z0-9_]`, never a keyword); every label is quoted and
 * escaped. Deterministic: the same graph gives the same text.
 *
 * @example
 * ```ts
 * writeFileSync('system.mmd', toMermaid(systemGraph(loadSystem('three-tier.yaml'))));
 * ```
 */
export function toMermaid(graph: SystemGraph): string {
  checkGraph(graph);
  const ids = nodeIds(graph, RESERVED);
  const lines: string[] = [];
  if (graph.name !== undefined) lines.push('---', `title: ${yamlString(graph.name)}`, '---');
  lines.push('flowchart LR');
  for (const n of graph.nodes) {
    const [open, close] = SHAPES[n.kind];
    lines.push(`  ${ids.get(n.name)}${open}"${mermaidText(nodeText(n))}"${close}`);
  }
  for (const e of graph.edges)
    lines.push(`  ${ids.get(e.from)} -->|"${mermaidText(e.label)}"| ${ids.get(e.to)}`);
  for (const kind of Object.keys(SHAPES) as SystemNodeKind[]) {
    const members = graph.nodes.filter((n) => n.kind === kind).map((n) => ids.get(n.name));
    if (members.length === 0) continue;
    // A class name is a word: `rate-limit-store` becomes `rate_limit_storeKind`.
    const cls = `${kind.replace(/-/g, '_')}Kind`;
    lines.push(`  classDef ${cls} ${STYLES[kind]}`, `  class ${members.join(',')} ${cls}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A YAML double-quoted scalar with no markup characters and no line breaks. */
function yamlString(text: string): string {
  return `"${text.replace(YAML_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}
