import { type MeshProxyKind, PROXY_PRESET_NAMES, PROXY_PRESETS, presetPassLatency } from '@dsim/components';
import { didYouMean } from '@dsim/core';
import type { Push } from './gateway-check.js';
import { type MeshProfileDescription, profilePreset } from './mesh-schema.js';
import type { SystemDescription } from './schema.js';

// The rules of a system's `mesh` that the schema cannot say: which proxies the mode needs, L7 policy
// without an L7 proxy, the members, and a mesh that would change nothing. Called from validateSystem.

const guess = (word: string, options: Iterable<string>): string => {
  const g = didYouMean(word, options);
  return g === undefined ? '' : ` (did you mean "${g}"?)`;
};

/**
 * The service and database nodes in the mesh: its `services`, else every service and database, in
 * sorted order. Unknown names are left to {@link checkMesh}.
 *
 * @example
 * ```ts
 * meshMembers(system); // ['catalog', 'db', 'orders']
 * ```
 */
export function meshMembers(system: SystemDescription): string[] {
  const mesh = system.mesh;
  if (mesh === undefined) return [];
  const all = Object.keys(system.nodes)
    .filter((n) => system.nodes[n]!.kind === 'service' || system.nodes[n]!.kind === 'database')
    .sort();
  return mesh.services === undefined ? all : [...new Set(mesh.services)].sort();
}

/** A mesh's rules (see the file's comment). */
export function checkMesh(system: SystemDescription, push: Push): void {
  const mesh = system.mesh;
  if (mesh === undefined) return;
  const names = Object.keys(system.nodes);
  if ('mesh' in system.nodes)
    push(
      'nodes.mesh',
      'with a `mesh` the name "mesh" is its figures\' (`mesh.<phase>.proxyCpu`): rename the node',
    );
  const mode = mesh.mode ?? 'sidecar';
  const profile = (k: MeshProxyKind, p: MeshProfileDescription | undefined, why: string): void => {
    const at = `mesh.${k}`;
    if (p === undefined) {
      push(
        at,
        `is required ${why}: a ${k} preset (${presetsOf(k)}) or { preset?, cpuPerRequest, latency, ... }`,
      );
      return;
    }
    const preset = profilePreset(p);
    if (preset !== undefined && PROXY_PRESETS[preset].kind !== k) {
      push(
        typeof p === 'string' ? at : `${at}.preset`,
        `"${preset}" is a ${PROXY_PRESETS[preset].kind} preset; a ${k} takes ${presetsOf(k)}`,
      );
      return;
    }
    const latency = typeof p === 'string' ? undefined : p.latency;
    if (latency === undefined && (preset === undefined || presetPassLatency(preset) === undefined))
      push(
        typeof p === 'string' ? at : `${at}.latency`,
        preset === undefined
          ? 'give `latency` (and `cpuPerRequest`) when there is no preset'
          : `Istio publishes no added latency for "${preset}": write { preset: ${preset}, latency: ... } (0 for the CPU alone)`,
      );
    if (preset === undefined && typeof p !== 'string' && p.cpuPerRequest === undefined)
      push(`${at}.cpuPerRequest`, 'give `cpuPerRequest` when there is no preset');
  };
  if (mode === 'sidecar') {
    profile('sidecar', mesh.sidecar, 'in sidecar mode');
    for (const k of ['ztunnel', 'waypoint', 'waypoints'] as const)
      if (mesh[k] !== undefined) push(`mesh.${k}`, "is ambient mode's: drop it, or give `mode: ambient`");
  } else {
    profile('ztunnel', mesh.ztunnel, 'in ambient mode');
    if (mesh.sidecar !== undefined) push('mesh.sidecar', "is sidecar mode's: ambient mode has no sidecars");
    if (mesh.waypoints === true) profile('waypoint', mesh.waypoint, 'with `waypoints: true`');
    else {
      if (mesh.waypoint !== undefined)
        push('mesh.waypoint', 'has no effect without `waypoints: true`: give it, or drop `waypoint`');
      for (const k of ['retry', 'timeout', 'outlierDetection'] as const)
        if (mesh[k] !== undefined)
          push(
            `mesh.${k}`,
            'is L7 policy; ztunnels are L4 only: give `waypoints: true` (a waypoint per service), or drop it',
          );
    }
  }
  const members = meshMembers(system);
  let unknown = false;
  if (mesh.services !== undefined) {
    const seen = new Map<string, number>();
    mesh.services.forEach((n, i) => {
      const at = `mesh.services[${i}]`;
      const d = system.nodes[n];
      const first = seen.get(n);
      if (first !== undefined) push(at, `"${n}" is also services[${first}]`);
      else seen.set(n, i);
      if (d === undefined) {
        unknown = true;
        push(at, `no node named "${n}"${guess(n, names)}`);
      } else if (d.kind !== 'service' && d.kind !== 'database')
        push(at, `"${n}" is a ${d.kind}; the mesh holds services and databases`);
    });
  }
  const inMesh = new Set(members);
  if (!unknown && !Object.keys(system.nodes).some((n) => callsInto(system, n, inMesh)))
    push(
      mesh.services === undefined ? 'mesh' : 'mesh.services',
      'has no effect: nothing calls a member (the mesh carries calls between its members, and captures calls into them)',
    );
}

/**
 * Whether node `n` calls a member, so that the call crosses a proxy: a member's downstream call to
 * another, or a call into the mesh captured by the member's inbound proxy (a clients node's target, a
 * balancer's backend, a gateway's or strangler's route, a downstream call of a service outside).
 */
function callsInto(system: SystemDescription, n: string, inMesh: ReadonlySet<string>): boolean {
  const d = system.nodes[n]!;
  switch (d.kind) {
    case 'service':
      return (d.downstream ?? []).some((c) => inMesh.has(c.to));
    case 'clients':
      return inMesh.has(d.target);
    case 'balancer':
      return d.backends.some((b) => inMesh.has(b));
    case 'gateway':
      return d.routes.some(
        (r) => (r.to !== undefined && inMesh.has(r.to)) || (r.aggregate ?? []).some((p) => inMesh.has(p.to)),
      );
    case 'strangler':
      return inMesh.has(d.legacy) || d.routes.some((r) => inMesh.has(r.to));
    default:
      return false;
  }
}

function presetsOf(kind: MeshProxyKind): string {
  return PROXY_PRESET_NAMES.filter((n) => PROXY_PRESETS[n].kind === kind).join(', ');
}
