import { Graph, layout } from '@dagrejs/dagre';
import { checkGraph, nodeText, type SystemGraph, type SystemNodeKind } from './graph.js';

/** Fill, stroke and corner radius of each kind's box. */
const STYLES: Record<SystemNodeKind, { fill: string; stroke: string; rx: number }> = {
  clients: { fill: '#e8f0fe', stroke: '#4a6fa5', rx: 22 },
  balancer: { fill: '#fff4e0', stroke: '#b7791f', rx: 4 },
  service: { fill: '#e6f4ea', stroke: '#2f855a', rx: 8 },
  database: { fill: '#f3e8fd', stroke: '#6b46c1', rx: 14 },
  cache: { fill: '#fde8e8', stroke: '#c53030', rx: 0 },
};

const NOT_XML =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /[\u0000-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

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
export function toSvg(graph: SystemGraph): string {
  checkGraph(graph);
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 28, ranksep: 70, edgesep: 12, marginx: MARGIN, marginy: MARGIN });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) {
    const chars = Math.max([...nodeText(n)].length, n.kind.length);
    g.setNode(n.name, { width: Math.max(84, Math.ceil(chars * CHAR_W) + 28), height: NODE_H });
  }
  for (const e of graph.edges)
    g.setEdge(
      e.from,
      e.to,
      { width: Math.ceil(e.label.length * LABEL_CHAR_W) + 8, height: 16, labelpos: 'c' },
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
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><polygon points="0,0 10,5 0,10" fill="#555555"/></marker></defs>',
  ];
  for (const e of graph.edges) {
    const edge = g.edge(e.from, e.to, e.label);
    const points = edge.points ?? [];
    const d = points
      .map((p: { x: number; y: number }, i: number) => `${i === 0 ? 'M' : 'L'}${num(p.x)},${num(p.y)}`)
      .join(' ');
    out.push(
      `<path class="edge" data-from="${xmlText(e.from)}" data-to="${xmlText(e.to)}" d="${d}" fill="none" stroke="#555555" stroke-width="1.4" marker-end="url(#arrow)"/>`,
    );
    if (edge.x !== undefined && edge.y !== undefined)
      out.push(
        `<text class="edge-label" x="${num(edge.x)}" y="${num(edge.y + 4)}" text-anchor="middle" font-size="11" fill="#444444" stroke="#ffffff" stroke-width="3" paint-order="stroke">${xmlText(e.label)}</text>`,
      );
  }
  for (const n of graph.nodes) {
    const box = g.node(n.name);
    const style = STYLES[n.kind];
    const x = num(box.x! - box.width / 2);
    const y = num(box.y! - box.height / 2);
    out.push(
      `<g class="node kind-${n.kind}" data-name="${xmlText(n.name)}">`,
      `<rect x="${x}" y="${y}" width="${num(box.width)}" height="${num(box.height)}" rx="${style.rx}" fill="${style.fill}" stroke="${style.stroke}" stroke-width="1.5"/>`,
      `<text x="${num(box.x!)}" y="${num(box.y! - 2)}" text-anchor="middle" font-size="13" fill="#1a202c">${xmlText(nodeText(n))}</text>`,
      `<text x="${num(box.x!)}" y="${num(box.y! + 13)}" text-anchor="middle" font-size="10" fill="#4a5568">${n.kind}</text>`,
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
