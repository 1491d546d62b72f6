import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli-main.js';
import { toDot } from '../src/system/graph/dot.js';
import { type SystemGraph, systemGraph } from '../src/system/graph/graph.js';
import { toMermaid } from '../src/system/graph/mermaid.js';
import { toSvg } from '../src/system/graph/svg.js';
import { loadSystem } from '../src/system/load.js';
import type { SystemDescription } from '../src/system/schema.js';

const fixture = new URL('../../../examples/systems/three-tier.yaml', import.meta.url);
const fixturePath = fixture.pathname;
const threeTier = () => systemGraph(loadSystem(fixture));

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  text: string;
}

/**
 * A strict XML well-formedness check (no DTD, no comments, no CDATA: the SVG has none): every tag
 * closed in order, one root, attributes double-quoted, `<` never in text or values, `&` only as an
 * entity. Returns the elements in document order with their attributes and direct text, decoded.
 */
function parseXml(xml: string): XmlElement[] {
  const entity = /&(?:#\d+|#x[0-9a-fA-F]+|amp|lt|gt|quot|apos);/g;
  const checkText = (t: string) => {
    if (t.includes('<') || t.replace(entity, '').includes('&')) throw new Error(`bad text ${t}`);
  };
  const decode = (t: string) =>
    t.replace(entity, (e) =>
      e.startsWith('&#x')
        ? String.fromCodePoint(Number.parseInt(e.slice(3, -1), 16))
        : e.startsWith('&#')
          ? String.fromCodePoint(Number(e.slice(2, -1)))
          : (
              { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'" } as Record<
                string,
                string
              >
            )[e]!,
    );
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[A-Za-z][\w:.-]*="[^"]*")*)\s*(\/?)>/y;
  const attr = /([A-Za-z][\w:.-]*)="([^"]*)"/g;
  const out: XmlElement[] = [];
  const stack: XmlElement[] = [];
  let roots = 0;
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt === -1 ? xml.length : lt);
    checkText(text);
    if (stack.length === 0 && text.trim() !== '') throw new Error(`text outside the root: ${text}`);
    if (stack.length > 0) stack.at(-1)!.text += decode(text);
    if (lt === -1) break;
    tag.lastIndex = lt;
    const m = tag.exec(xml);
    if (m === null) throw new Error(`bad tag at ${lt}: ${xml.slice(lt, lt + 60)}`);
    const [, close, name, rawAttrs, selfClose] = m;
    if (close === '/') {
      if (stack.pop()?.name !== name) throw new Error(`unbalanced </${name}>`);
    } else {
      const attrs: Record<string, string> = {};
      for (const a of rawAttrs!.matchAll(attr)) {
        checkText(a[2]!);
        if (Object.hasOwn(attrs, a[1]!)) throw new Error(`duplicate attribute ${a[1]}`);
        attrs[a[1]!] = decode(a[2]!);
      }
      const el = { name: name!, attrs, text: '' };
      if (stack.length === 0) roots++;
      out.push(el);
      if (selfClose !== '/') stack.push(el);
    }
    i = tag.lastIndex;
  }
  if (stack.length > 0 || roots !== 1) throw new Error('not one closed root element');
  return out;
}

/** A graph built by hand, with names no description may have (the exporters accept any graph). */
const hostile: SystemGraph = {
  name: 'evil "system" <script>alert(1)</script> & \'co\'',
  nodes: [
    { name: '<script>alert("x")</script>', kind: 'clients', replicas: 1 },
    { name: 'say "hi" \\n', kind: 'balancer', replicas: 1 },
    { name: "it's & end", kind: 'service', replicas: 2 },
    { name: 'end', kind: 'database', replicas: 1 },
    { name: 'a#35;b`c`\nnew line', kind: 'cache', replicas: 1 },
  ],
  edges: [
    { from: '<script>alert("x")</script>', to: 'say "hi" \\n', label: 'request' },
    { from: 'say "hi" \\n', to: "it's & end", label: 'backend' },
    { from: "it's & end", to: 'end', label: 'downstream' },
    { from: "it's & end", to: 'a#35;b`c`\nnew line', label: 'cache-aside' },
  ],
};

describe('systemGraph', () => {
  it('derives nodes (callers first) and labelled edges from the three-tier description', () => {
    const g = threeTier();
    expect(g.nodes).toEqual([
      { name: 'users', kind: 'clients', replicas: 1 },
      { name: 'lb', kind: 'balancer', replicas: 1 },
      { name: 'app', kind: 'service', replicas: 4 },
      { name: 'cache', kind: 'cache', replicas: 1 },
      { name: 'db', kind: 'database', replicas: 1 },
    ]);
    expect(g.edges).toEqual([
      { from: 'users', to: 'lb', label: 'request' },
      { from: 'lb', to: 'app', label: 'backend' },
      { from: 'app', to: 'cache', label: 'cache-aside' },
      { from: 'app', to: 'db', label: 'downstream' },
    ]);
  });

  it('draws a path given twice once; key order does not matter', () => {
    const d: SystemDescription = {
      nodes: {
        db: { kind: 'database' },
        app: { kind: 'service', replicas: 3, serviceTime: 1, downstream: [{ to: 'db' }, { to: 'db' }] },
        lb: { kind: 'balancer', backends: ['app'] },
        users: { kind: 'clients', target: 'lb', workload: { kind: 'open', rate: 1 }, until: '1s' },
      },
    };
    const g = systemGraph(d);
    expect(g.edges.filter((e) => e.to === 'app')).toEqual([{ from: 'lb', to: 'app', label: 'backend' }]);
    expect(g.edges.filter((e) => e.to === 'db')).toHaveLength(1);
    const reversed = { nodes: Object.fromEntries(Object.entries(d.nodes).reverse()) } as SystemDescription;
    expect(toSvg(systemGraph(reversed))).toBe(toSvg(g));
  });

  it('refuses an invalid description and a malformed hand-built graph', () => {
    expect(() => systemGraph({ nodes: { lb: { kind: 'balancer', backends: ['nope'] } } })).toThrow(/nope/);
    const bad = {
      nodes: [{ name: 'a', kind: 'service', replicas: 1 }],
      edges: [{ from: 'a', to: 'b', label: 'request' }],
    };
    expect(() => toMermaid(bad as SystemGraph)).toThrow(/edges\[0\]\.to: no node named "b"/);
    expect(() => toDot({ nodes: [{ name: 'a', kind: 'queue' as 'cache', replicas: 1 }], edges: [] })).toThrow(
      /kind must be one of/,
    );
  });
});

describe('exporters on the three-tier system', () => {
  it('mermaid: a flowchart LR with a shape per kind and the call kinds on the edges', () => {
    expect(toMermaid(threeTier())).toMatchInlineSnapshot(`
      "flowchart LR
        users(["users"])
        lb{{"lb"}}
        app["app ×4"]
        cache[/"cache"/]
        db[("db")]
        users -->|"request"| lb
        lb -->|"backend"| app
        app -->|"cache-aside"| cache
        app -->|"downstream"| db
        classDef clientsKind fill:#e8f0fe,stroke:#4a6fa5
        class users clientsKind
        classDef balancerKind fill:#fff4e0,stroke:#b7791f
        class lb balancerKind
        classDef serviceKind fill:#e6f4ea,stroke:#2f855a
        class app serviceKind
        classDef databaseKind fill:#f3e8fd,stroke:#6b46c1
        class db databaseKind
        classDef cacheKind fill:#fde8e8,stroke:#c53030
        class cache cacheKind
      "
    `);
  });

  it('dot: a digraph with quoted ids, shapes by kind and labelled edges', () => {
    expect(toDot(threeTier())).toMatchInlineSnapshot(`
      "digraph "system" {
        rankdir=LR;
        node [style=filled, fontname="Helvetica", fontsize=12];
        edge [fontname="Helvetica", fontsize=10, color="#555555"];
        "users" [label="users", shape=oval, fillcolor="#e8f0fe", color="#4a6fa5"];
        "lb" [label="lb", shape=hexagon, fillcolor="#fff4e0", color="#b7791f"];
        "app" [label="app ×4", shape=box, style="rounded,filled", fillcolor="#e6f4ea", color="#2f855a"];
        "cache" [label="cache", shape=parallelogram, fillcolor="#fde8e8", color="#c53030"];
        "db" [label="db", shape=cylinder, fillcolor="#f3e8fd", color="#6b46c1"];
        "users" -> "lb" [label="request"];
        "lb" -> "app" [label="backend"];
        "app" -> "cache" [label="cache-aside"];
        "app" -> "db" [label="downstream"];
      }
      "
    `);
  });

  it('svg: well-formed XML, one <g> and one <rect> per node, one path per edge, inside the canvas', () => {
    const g = threeTier();
    const els = parseXml(toSvg(g));
    expect(els[0]!.name).toBe('svg');
    expect(els[0]!.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    const groups = els.filter((e) => e.name === 'g');
    expect(groups.map((e) => e.attrs['data-name'])).toEqual(g.nodes.map((n) => n.name));
    expect(els.filter((e) => e.name === 'rect')).toHaveLength(g.nodes.length);
    const paths = els.filter((e) => e.name === 'path');
    expect(paths.map((p) => [p.attrs['data-from'], p.attrs['data-to']])).toEqual(
      g.edges.map((e) => [e.from, e.to]),
    );
    const texts = els.filter((e) => e.name === 'text').map((e) => e.text);
    expect(texts).toEqual(
      expect.arrayContaining(['app ×4', 'request', 'backend', 'cache-aside', 'downstream']),
    );
    const width = Number(els[0]!.attrs.width);
    const height = Number(els[0]!.attrs.height);
    for (const r of els.filter((e) => e.name === 'rect')) {
      expect(Number(r.attrs.x)).toBeGreaterThanOrEqual(0);
      expect(Number(r.attrs.x) + Number(r.attrs.width)).toBeLessThanOrEqual(width);
      expect(Number(r.attrs.y) + Number(r.attrs.height)).toBeLessThanOrEqual(height);
    }
    // Left to right: each call goes to a box further right.
    for (const p of paths) {
      const xs = [...p.attrs.d!.matchAll(/[ML](-?[\d.]+),/g)].map((m) => Number(m[1]));
      expect(xs.at(-1)!).toBeGreaterThan(xs[0]!);
    }
    expect(toSvg(g)).not.toMatch(/<script|href|on\w+=/i);
  });

  it('is deterministic: byte-identical output on two calls, and from two loads of the file', () => {
    for (const f of [toMermaid, toDot, toSvg]) {
      expect(f(threeTier())).toBe(f(threeTier()));
      const g = threeTier();
      expect(f(g)).toBe(f(g));
    }
  });
});

describe('escaping hostile names', () => {
  it('svg: names are text, never markup; the document stays well-formed', () => {
    const svg = toSvg(hostile);
    expect(svg).not.toContain('<script');
    const els = parseXml(svg);
    expect(els.filter((e) => e.name === 'g')).toHaveLength(5);
    expect(els.filter((e) => e.name === 'rect')).toHaveLength(5);
    expect(els.filter((e) => e.name === 'path')).toHaveLength(4);
    expect(els.find((e) => e.name === 'title')!.text).toBe(hostile.name);
    expect(els.filter((e) => e.name === 'g').map((e) => e.attrs['data-name'])).toContain(
      '<script>alert("x")</script>',
    );
    expect(els.map((e) => e.text)).toContain("it's & end ×2");
    expect(els.some((e) => e.name === 'script')).toBe(false);
  });

  it('mermaid: labels quoted with entity codes, ids sanitised and never a keyword', () => {
    const text = toMermaid(hostile);
    const body = text.split('\n').slice(3); // after the title front matter
    for (const line of body) expect(line.replace(' -->', '')).not.toMatch(/[<>]|&(?!#)/);
    expect(text).toContain(
      'title: "evil \\u0022system\\u0022 \\u003cscript\\u003ealert(1)\\u003c/script\\u003e \\u0026 \'co\'"',
    );
    expect(text).toContain(
      'n__script_alert__x____script_(["#60;script#62;alert(#34;x#34;)#60;/script#62;"])',
    );
    expect(text).toContain('say__hi___n{{"say #34;hi#34; \\n"}}');
    expect(text).toContain('it_s___end["it\'s #38; end ×2"]');
    expect(text).toContain('end_2[("end")]'); // "end" would close a subgraph
    expect(text).toContain('a_35_b_c__new_line[/"a#35;35;b#96;c#96;#10;new line"/]');
    for (const line of body.filter((l) => l.includes('-->')))
      expect(line).toMatch(/^ {2}[A-Za-z][A-Za-z0-9_]* -->\|"[a-z-]+"\| [A-Za-z][A-Za-z0-9_]*$/);
  });

  it('dot: every id and label a quoted string with quotes and backslashes escaped', () => {
    const text = toDot(hostile);
    expect(text).toContain('digraph "evil \\"system\\" <script>alert(1)</script> & \'co\'" {');
    expect(text).toContain('"<script>alert(\\"x\\")</script>" -> "say \\"hi\\" \\\\n" [label="request"];');
    expect(text).toContain('"a#35;b`c` new line" [label="a#35;b`c` new line"');
    // Outside quoted strings only DOT syntax remains.
    const bare = text.replace(/"(?:[^"\\]|\\.)*"/g, '""');
    expect(bare.replaceAll(' -> ', ' ')).not.toMatch(/[<>&'`#]/);
  });
});

describe('dsim graph', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsim-graph-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  async function cli(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    return { code, stdout, stderr };
  }

  it('prints mermaid (the default) or a chosen format on stdout', async () => {
    const r = await cli('graph', fixturePath);
    expect(r).toEqual({ code: 0, stdout: toMermaid(threeTier()), stderr: '' });
    expect((await cli('graph', fixturePath, '--format', 'dot')).stdout).toBe(toDot(threeTier()));
  });

  it('writes the file with -o, atomically, leaving no temporary file; the format follows the extension', async () => {
    const out = join(dir, 'three-tier.svg');
    const r = await cli('graph', fixturePath, '--format', 'svg', '-o', out);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(out, 'utf8')).toBe(toSvg(threeTier()));
    const inferred = join(dir, 'inferred.svg');
    expect((await cli('graph', fixturePath, '--output', inferred)).code).toBe(0);
    expect(readFileSync(inferred, 'utf8')).toBe(toSvg(threeTier()));
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('a bad format, flag or path is a usage error (exit 2) with a did-you-mean', async () => {
    const out = join(dir, 'never.svg');
    const bad = await cli('graph', fixturePath, '--format', 'svgg', '-o', out);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      '--format "svgg" is not a graph format (did you mean "svg"?); formats: svg, mermaid, dot',
    );
    expect(existsSync(out)).toBe(false);
    const flag = await cli('graph', fixturePath, '--fromat', 'svg');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("unknown option --fromat for 'graph' (did you mean --format?)");
    expect((await cli('graph')).stderr).toContain("'graph' needs a system file");
    expect((await cli('graph', join(dir, 'missing.yaml'))).stderr).toContain('no system file');
    expect((await cli('graph', 'x.ts')).stderr).toContain("'graph' draws a system description");
    expect((await cli('graph', fixturePath, '-o', join(dir, 'no/such/folder.svg'))).code).toBe(2);
    expect((await cli('grahp')).stderr).toContain('(did you mean "graph"?)');
  });

  it('an invalid system prints its issues, one a line (exit 2)', async () => {
    const { writeFileSync } = await import('node:fs');
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'nodes:\n  lb: { kind: balancer, backends: [ap], polcy: random }\n  ap: { kind: database }\n',
    );
    const r = await cli('graph', file, '--format', 'svg');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /is not a valid system:\n {2}nodes\.lb\.polcy: unknown key \(did you mean "policy"\?\)\n/,
    );
  });
});
