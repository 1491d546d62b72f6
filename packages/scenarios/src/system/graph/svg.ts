import { Graph, layout } from '@dagrejs/dagre';
import { checkGraph, nodeText, type SystemGraph, type SystemNodeKind } from './graph.js';

/** Fill, stroke and corner radius of each kind's box. */
const STYLES: Record<SystemNodeKind, { fill: string; stroke: string; rx: number }> = {
  clients: { fill: '#e8f0fe', stroke: '#4a6fa5', rx: 22 },
  balancer: { fill: '#fff4e0', stroke: '#b7791f', rx: 4 },
  service: { fill: '#e6f4ea', stroke: '#2f855a', rx: 8 },
  database: { fill: '#f3e8fd', stroke: '#6b46c1', rx: 14 },
  cache: { fill: '#fde8e8', stroke: '#c53030', rx: 0 },
  kafka: { fill: '#e6fffa', stroke: '#2c7a7b', rx: 2 },
  consumer: { fill: '#fefcbf', stroke: '#975a16', rx: 6 },
  amqp: { fill: '#fff5f7', stroke: '#b83280', rx: 14 },
  worker: { fill: '#fefcbf', stroke: '#975a16', rx: 6 },
  cdn: { fill: '#ebf8ff', stroke: '#2b6cb0', rx: 18 },
  gateway: { fill: '#faf5ff', stroke: '#553c9a', rx: 4 },
  strangler: { fill: '#f0fff4', stroke: '#276749', rx: 4 },
  activator: { fill: '#fffff0', stroke: '#744210', rx: 2 },
  'rate-limit-store': { fill: '#fff5f5', stroke: '#9b2c2c', rx: 14 },
  eureka: { fill: '#f0f5ff', stroke: '#434190', rx: 6 },
  saga: { fill: '#fefcbf', stroke: '#744210', rx: 4 },
  'saga-participant': { fill: '#e6f4ea', stroke: '#2f855a', rx: 8 },
};

const NOT_XML =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /[\u0000-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Stroke and fill of a node or edge annotated with a health tone. */
const TONES: Record<Tone, { stroke: string; fill?: string; text: string }> = {
  ok: { stroke: '#2f855a', text: '#22543d' },
  warn: { stroke: '#c05621', fill: '#fffaf0', text: '#9c4221' },
  bad: { stroke: '#c53030', fill: '#fff5f5', text: '#9b2c2c' },
  none: { stroke: '#555555', text: '#444444' },
};

/** How healthy an annotated node or edge looks: drawn green, amber or red (`none`: as unannotated). */
export type Tone = 'ok' | 'warn' | 'bad' | 'none';

/** A figure drawn on a node or an edge, e.g. `52/s · 0.1% err`. */
export interface SvgAnnotation {
  readonly text: string;
  readonly tone: Tone;
}

/** Options of {@link toSvg}. */
export interface SvgOptions {
  /** Prefix of the ids inside the SVG (its arrowheads), so that several fit in one page. @default '' */
  readonly idPrefix?: string;
  /** A line of figures under a node's kind, by node name. @default none */
  readonly nodes?: Readonly<Record<string, SvgAnnotation>>;
  /** Figures instead of an edge's call kind, by `from->to`; the edge is coloured by its tone. @default none */
  readonly edges?: Readonly<Record<string, SvgAnnotation>>;
}

const FONT = 'Helvetica, Arial, sans-serif';
/** Estimated advance of a character at 13 px (no font is measured, so the output is the same everywhere). */
const CHAR_W = 7.8;
const LABEL_CHAR_W = 6;
const NODE_H = 44;
const MARGIN = 16;

/**
 * Text for XML content or a quoted attribute: `& < > " '` as entities, and every character XML 1.0
 * forbids (most control characters, lone surrogates, U+FFFE/U+FFFF) as U+FFFD; tabs and line breaks as
 * spaces.
 */
export function xmlText(text: string): string {
  return text
    .replace(/[\t\n\r]/g, ' ')
    .replace(NOT_XML, '\ufffd')
    .replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The graph as a self-contained SVG (no scripts, no external fonts or links), laid out left to right
 * by dagre: a `<g class="node">` with one `<rect>` (colour and corner radius by kind) and the name and
 * kind per node, one `<path class="edge">` with an arrowhead and the call kind per edge. Sizes come
 * from estimated text widths, never from a font, so the same graph gives the same bytes on any machine.
 *
 * @example
 * ```ts
 * writeFileSync('system.svg', toSvg(systemGraph(loadSystem('three-tier.yaml'))));
 * ```
 */
export function toSvg(graph: SystemGraph, options: SvgOptions = {}): string {
  checkGraph(graph);
  const prefix = options.idPrefix ?? '';
  if (!/^[A-Za-z0-9_-]*$/.test(prefix))
    throw new TypeError(`idPrefix must be letters, digits, _ and - only, got ${JSON.stringify(prefix)}`);
  const arrow = `${prefix}arrow`;
  const nodeNotes = options.nodes ?? {};
  const edgeNotes = options.edges ?? {};
  const edgeText = (e: SystemGraph['edges'][number]) => edgeNotes[`${e.from}->${e.to}`]?.text ?? e.label;
  const annotated = Object.keys(nodeNotes).length > 0;
  const nodeH = annotated ? NODE_H + 14 : NODE_H;
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 28, ranksep: 70, edgesep: 12, marginx: MARGIN, marginy: MARGIN });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) {
    const note = nodeNotes[n.name]?.text ?? '';
    const chars = Math.max([...nodeText(n)].length, n.kind.length, Math.ceil([...note].length * 0.8));
    g.setNode(n.name, { width: Math.max(84, Math.ceil(chars * CHAR_W) + 28), height: nodeH });
  }
  for (const e of graph.edges)
    g.setEdge(
      e.from,
      e.to,
      { width: Math.ceil([...edgeText(e)].length * LABEL_CHAR_W) + 8, height: 16, labelpos: 'c' },
      e.label,
    );
  layout(g);

  const label = g.graph();
  const width = num(label.width ?? 0);
  const height = num(label.height ?? 0);
  const title = graph.name ?? 'system';
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${xmlText(title)}" style="background:#ffffff" font-family="${FONT}">`,
    `<title>${xmlText(title)}</title>`,
    `<defs>${(['none', 'ok', 'warn', 'bad'] as const)
      .filter((t) => t === 'none' || Object.values(edgeNotes).some((a) => a.tone === t))
      .map(
        (t) =>
          `<marker id="${arrow}${t === 'none' ? '' : `-${t}`}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><polygon points="0,0 10,5 0,10" fill="${TONES[t].stroke}"/></marker>`,
      )
      .join('')}</defs>`,
  ];
  for (const e of graph.edges) {
    const edge = g.edge(e.from, e.to, e.label);
    const points = edge.points ?? [];
    const d = points
      .map((p: { x: number; y: number }, i: number) => `${i === 0 ? 'M' : 'L'}${num(p.x)},${num(p.y)}`)
      .join(' ');
    const tone = edgeNotes[`${e.from}->${e.to}`]?.tone ?? 'none';
    const marker = tone === 'none' ? arrow : `${arrow}-${tone}`;
    out.push(
      `<path class="edge${tone === 'none' ? '' : ` tone-${tone}`}" data-from="${xmlText(e.from)}" data-to="${xmlText(e.to)}" d="${d}" fill="none" stroke="${TONES[tone].stroke}" stroke-width="${tone === 'bad' ? 2.2 : 1.4}" marker-end="url(#${marker})"/>`,
    );
    // A backing box where the label has figures: the line must not run through their spaces.
    if (edge.x !== undefined && edge.y !== undefined && tone !== 'none') {
      const w = Math.ceil([...edgeText(e)].length * LABEL_CHAR_W) + 6;
      out.push(
        `<rect class="edge-label-box" x="${num(edge.x - w / 2)}" y="${num(edge.y - 8)}" width="${w}" height="15" rx="3" fill="#ffffff" fill-opacity="0.92"/>`,
      );
    }
    if (edge.x !== undefined && edge.y !== undefined)
      out.push(
        `<text class="edge-label" x="${num(edge.x)}" y="${num(edge.y + 4)}" text-anchor="middle" font-size="11" fill="${TONES[tone].text}" stroke="#ffffff" stroke-width="3" paint-order="stroke">${xmlText(edgeText(e))}</text>`,
      );
  }
  for (const n of graph.nodes) {
    const box = g.node(n.name);
    const style = STYLES[n.kind];
    const note = nodeNotes[n.name];
    const tone = note === undefined || note.tone === 'none' ? undefined : TONES[note.tone];
    const x = num(box.x! - box.width / 2);
    const y = num(box.y! - box.height / 2);
    const top = annotated ? box.y! - 9 : box.y!;
    out.push(
      `<g class="node kind-${n.kind}${note === undefined ? '' : ` tone-${note.tone}`}" data-name="${xmlText(n.name)}">`,
      `<rect x="${x}" y="${y}" width="${num(box.width)}" height="${num(box.height)}" rx="${style.rx}" fill="${tone?.fill ?? style.fill}" stroke="${tone?.stroke ?? style.stroke}" stroke-width="${tone === undefined ? 1.5 : 2.2}"/>`,
      `<text x="${num(box.x!)}" y="${num(top - 2)}" text-anchor="middle" font-size="13" fill="#1a202c">${xmlText(nodeText(n))}</text>`,
      `<text x="${num(box.x!)}" y="${num(top + 13)}" text-anchor="middle" font-size="10" fill="#4a5568">${n.kind}</text>`,
      ...(note === undefined
        ? []
        : [
            `<text class="figures" x="${num(box.x!)}" y="${num(top + 27)}" text-anchor="middle" font-size="10.5" fill="${TONES[note.tone].text}">${xmlText(note.text)}</text>`,
          ]),
      '</g>',
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** A coordinate with at most two decimals and no `-0`. */
function num(n: number): string {
  const r = Math.round(n * 100) / 100;
  return String(r === 0 ? 0 : r);
}
