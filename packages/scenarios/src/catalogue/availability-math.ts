import {
  allowedDowntime,
  availabilityFromMttf,
  DsimError,
  exponential,
  kOfNAvailability,
  nines,
  parallelAvailability,
  serialAvailability,
  zonalAvailability,
} from '@dsim/core';
import { BatchMeans } from '../batch-means.js';
import { param } from '../params.js';
import { type CheckResult, defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered } from './limits.js';

const HOUR = 3_600_000;
/** Equal time slices whose up fractions feed the batch means. */
const SLICES = 200;
/** Batches of slices: long enough (many failures each) to be nearly independent. */
const BATCHES = 20;
/** Checks allow the measured availability this many batch-means standard errors from a formula. */
const Z = 4;
/** Most state changes (failures and repairs) a variant may simulate: a bound on its run time. */
const MAX_CHANGES = 10_000_000;

/**
 * `availability-math`: measured availability of serial, redundant and quorum designs against the
 * formulas of `@dsim/core` (Treynor et al., "The Calculus of Service Availability", ACM Queue 2017), and
 * where correlated failures break them. Every replica alternates exponential up times (mean
 * `mttfHours`) and repair times (mean `mttrHours`) on its own random stream; in the `zones` design,
 * zones do the same (`zoneMttfHours`, `zoneMttrHours`) and a zone that is down takes its replicas with
 * it, while their own clocks keep running. The system is up while at least `need` replicas are up (in
 * an up zone). Availability is time-based: the share of `hours` the system was up, with a batch-means
 * standard error over 20 batches of simulated time.
 */
export const availabilityMath = defineScenario({
  name: 'availability-math',
  description:
    'Measured availability of serial, redundant, quorum and zonal designs against the formulas, and correlated zones',
  params: {
    design: param.enum(['k-of-n', 'zones'], {
      default: 'k-of-n',
      description: 'independent replicas, or replicas in zones that fail together (each variant sets it)',
    }),
    replicas: param.integer({
      default: 3,
      min: 1,
      max: 100,
      description: 'k-of-n design: replicas (n; each variant sets it)',
    }),
    zones: param.integer({
      default: 3,
      min: 1,
      max: 100,
      description: 'zones design: zones (each variant sets it)',
    }),
    replicasPerZone: param.integer({
      default: 1,
      min: 1,
      max: 100,
      description: 'zones design: replicas in each zone (each variant sets it)',
    }),
    need: param.integer({
      default: 2,
      min: 1,
      max: 10_000,
      description: 'replicas that must be up (k; each variant sets it)',
    }),
    mttfHours: param.number({
      default: 99,
      min: 0,
      exclusiveMin: true,
      max: 1e7,
      description: "a replica's mean time to failure (exponential)",
    }),
    mttrHours: param.number({
      default: 1,
      min: 0,
      exclusiveMin: true,
      max: 1e7,
      description: "a replica's mean time to repair (exponential)",
    }),
    zoneMttfHours: param.number({
      default: 999,
      min: 0,
      exclusiveMin: true,
      max: 1e7,
      description: "zones design: a zone's mean time to failure (exponential)",
    }),
    zoneMttrHours: param.number({
      default: 1,
      min: 0,
      exclusiveMin: true,
      max: 1e7,
      description: "zones design: a zone's mean time to repair (exponential)",
    }),
    hours: param.number({
      default: 1_000_000,
      min: 1000,
      max: 1e9,
      description: 'simulated hours; state changes (failures and repairs) at most 10 000 000 per variant',
    }),
  },
  variants: [
    {
      name: 'single',
      description: 'one component: MTTF / (MTTF + MTTR)',
      params: { design: 'k-of-n', replicas: 1, need: 1 },
    },
    {
      name: 'serial-3',
      description: 'three components that must all be up: the product',
      params: { design: 'k-of-n', replicas: 3, need: 3 },
    },
    {
      name: 'parallel-2',
      description: 'two independent replicas, one enough: 1 − (1 − a)²',
      params: { design: 'k-of-n', replicas: 2, need: 1 },
    },
    {
      name: 'quorum-2-of-3',
      description: 'a 2-of-3 quorum of independent replicas: the binomial tail',
      params: { design: 'k-of-n', replicas: 3, need: 2 },
    },
    {
      name: 'parallel-one-zone',
      description: 'two replicas, one enough, both in one zone',
      params: { design: 'zones', zones: 1, replicasPerZone: 2, need: 1 },
    },
    {
      name: 'parallel-two-zones',
      description: 'two replicas, one enough, in two zones',
      params: { design: 'zones', zones: 2, replicasPerZone: 1, need: 1 },
    },
    {
      name: 'quorum-one-zone',
      description: 'a 2-of-3 quorum in one zone',
      params: { design: 'zones', zones: 1, replicasPerZone: 3, need: 2 },
    },
    {
      name: 'quorum-three-zones',
      description: 'a 2-of-3 quorum, one replica in each of three zones',
      params: { design: 'zones', zones: 3, replicasPerZone: 1, need: 2 },
    },
  ],
  run({ sim, params, check }) {
    const zoned = params.design === 'zones';
    const zoneCount = zoned ? params.zones : 0;
    const perZone = zoned ? params.replicasPerZone : params.replicas;
    const n = zoned ? zoneCount * perZone : params.replicas;
    const need = params.need;
    if (need > n)
      throw new DsimError(
        'CONFIG_ERROR',
        `parameter need must be at most the replicas (${n}${zoned ? ' = zones × replicasPerZone' : ''}), got ${need}`,
        { details: { field: 'need', value: need, allowed: `<= ${n}` } },
      );
    const mttf = params.mttfHours * HOUR;
    const mttr = params.mttrHours * HOUR;
    const zoneMttf = params.zoneMttfHours * HOUR;
    const zoneMttr = params.zoneMttrHours * HOUR;
    const horizon = params.hours * HOUR;
    limitOffered(
      2 *
        params.hours *
        (n / (params.mttfHours + params.mttrHours) +
          zoneCount / (params.zoneMttfHours + params.zoneMttrHours)),
      '2 × hours × (replicas / (mttfHours + mttrHours) + zones / (zoneMttfHours + zoneMttrHours))',
      MAX_CHANGES,
      'state changes',
    );

    const sliceMs = horizon / SLICES;
    const systemUp = new Float64Array(SLICES);
    const replicaUp = new Float64Array(SLICES);
    /** Adds the span [from, to) to the slices it covers. */
    const addSpan = (slices: Float64Array, from: number, to: number): void => {
      let i = Math.floor(from / sliceMs);
      while (from < to && i < SLICES) {
        const end = Math.min(to, (i + 1) * sliceMs);
        slices[i]! += end - from;
        from = end;
        i++;
      }
    };

    const zoneUp: boolean[] = new Array(zoneCount).fill(true);
    const up: boolean[] = new Array(n).fill(true);
    const upSince: number[] = new Array(n).fill(0);
    let failures = 0;
    let zoneFailures = 0;
    let systemFailures = 0;
    let wasUp = true;
    let systemUpSince = 0;
    const serving = (): number => {
      let count = 0;
      for (let i = 0; i < n; i++) if (up[i] && (!zoned || zoneUp[Math.floor(i / perZone)])) count++;
      return count;
    };
    const changed = (): void => {
      const isUp = serving() >= need;
      if (wasUp && !isUp) {
        addSpan(systemUp, systemUpSince, sim.now);
        systemFailures++;
      } else if (!wasUp && isUp) systemUpSince = sim.now;
      wasUp = isUp;
    };

    // Each replica and zone alternates up and down on its own stream, independently of the others.
    for (let i = 0; i < n; i++) {
      const rng = sim.rng(`availability-math/replica-${i}`);
      const upTime = exponential({ mean: mttf });
      const repair = exponential({ mean: mttr });
      sim.process(function* () {
        for (;;) {
          yield sim.timeout(upTime.sample(rng));
          up[i] = false;
          failures++;
          addSpan(replicaUp, upSince[i]!, sim.now);
          changed();
          yield sim.timeout(repair.sample(rng));
          up[i] = true;
          upSince[i] = sim.now;
          changed();
        }
      });
    }
    for (let z = 0; z < zoneCount; z++) {
      const rng = sim.rng(`availability-math/zone-${z}`);
      const upTime = exponential({ mean: zoneMttf });
      const repair = exponential({ mean: zoneMttr });
      sim.process(function* () {
        for (;;) {
          yield sim.timeout(upTime.sample(rng));
          zoneUp[z] = false;
          zoneFailures++;
          changed();
          yield sim.timeout(repair.sample(rng));
          zoneUp[z] = true;
          changed();
        }
      });
    }
    sim.run({ until: horizon });
    if (wasUp) addSpan(systemUp, systemUpSince, horizon);
    for (let i = 0; i < n; i++) if (up[i]) addSpan(replicaUp, upSince[i]!, horizon);

    const system = new BatchMeans(SLICES, BATCHES);
    const replica = new BatchMeans(SLICES, BATCHES);
    for (let k = 0; k < SLICES; k++) {
      system.add(systemUp[k]! / sliceMs);
      replica.add(replicaUp[k]! / (n * sliceMs));
    }

    // The formulas.
    const a = availabilityFromMttf(mttf, mttr);
    const az = availabilityFromMttf(zoneMttf, zoneMttr);
    const parts = new Array<number>(n).fill(a);
    let formula: string;
    let theory: number;
    let independent: number;
    if (zoned) {
      formula = `zonalAvailability(${zoneCount} zone${zoneCount === 1 ? '' : 's'} × ${perZone}, need ${need})`;
      theory = zonalAvailability({ zones: zoneCount, replicasPerZone: perZone, need, replica: a, zone: az });
      // What one gets by treating each replica (with its zone) as an independent component.
      independent = kOfNAvailability(need, n, a * az);
    } else if (n === 1) {
      formula = 'availabilityFromMttf';
      theory = a;
      independent = theory;
    } else if (need === n) {
      formula = `serialAvailability(${n})`;
      theory = serialAvailability(parts);
      independent = theory;
    } else if (need === 1) {
      formula = `parallelAvailability(${n})`;
      theory = parallelAvailability(parts);
      independent = theory;
    } else {
      formula = `kOfNAvailability(${need}, ${n})`;
      theory = kOfNAvailability(need, n, a);
      independent = theory;
    }
    const measured = system.mean;
    const se = system.standardError;
    check(
      `measured availability matches ${formula} (within ${Z} batch-means SE)`,
      Math.abs(measured - theory) <= Z * se,
      `measured ${fixed(measured)} ± ${fixed(se)} (SE), formula ${fixed(theory)}: ${signed((measured - theory) / se)} SE`,
    );
    check(
      `each replica is up MTTF / (MTTF + MTTR) of the time (within ${Z} SE)`,
      Math.abs(replica.mean - a) <= Z * replica.standardError,
      `measured ${fixed(replica.mean)} ± ${fixed(replica.standardError)}, formula ${fixed(a)}`,
    );
    // A renewal process: failures in `hours` ≈ hours / (MTTF + MTTR) per replica (Poisson-like spread).
    const expectedFailures = (n * horizon) / (mttf + mttr);
    check(
      'replica failures number hours / (MTTF + MTTR) each (within 4 sd)',
      Math.abs(failures - expectedFailures) <= Z * Math.sqrt(expectedFailures) + 1,
      `${failures}, expected ${expectedFailures.toFixed(0)} ± ${(Z * Math.sqrt(expectedFailures)).toFixed(0)}`,
    );
    if (zoned) {
      const gap = Math.abs(theory - independent);
      if (gap > 2 * Z * se)
        check(
          'the independent formula (each replica × its zone as an independent part) is rejected',
          Math.abs(measured - independent) > Z * se,
          `independent ${fixed(independent)} is ${(Math.abs(measured - independent) / se).toFixed(1)} SE from the measured ${fixed(measured)}; the zones cost ${fixed(gap)}`,
        );
      else if (gap < se)
        check(
          'with one replica a zone the independent formula holds too',
          Math.abs(measured - independent) <= Z * se,
          `independent ${fixed(independent)}, measured ${fixed(measured)}`,
        );
    }
    const month = 30 * 24 * HOUR;
    const ppm = 1e6;
    return {
      formula,
      measured,
      standardError: se,
      theory,
      independent,
      // Down time in parts per million: readable where availabilities differ in the fifth decimal.
      downPpm: (1 - measured) * ppm,
      sePpm: se * ppm,
      theoryDownPpm: (1 - theory) * ppm,
      independentDownPpm: (1 - independent) * ppm,
      zScore: se > 0 ? (measured - theory) / se : null,
      measuredNines: measured < 1 ? nines(measured) : null,
      theoryNines: nines(theory),
      downMinPer30d: ((1 - measured) * month) / 60_000,
      theoryDownMinPer30d: allowedDowntime(theory, month) / 60_000,
      replicaDownPpm: (1 - replica.mean) * ppm,
      replicaTheoryDownPpm: (1 - a) * ppm,
      zoneTheory: zoned ? az : null,
      failures,
      zoneFailures,
      systemFailures,
    };
  },
  compare(variants) {
    return designChecks(variants);
  },
});

/**
 * Across variants: dependencies in series cost nines, redundancy buys them (single < quorum <
 * parallel; serial < single); a shared zone caps a redundant pair near the zone's availability, and
 * spreading the replicas over zones restores the independent figure.
 */
function designChecks(variants: readonly VariantResult[]): CheckResult[] {
  const checks: CheckResult[] = [];
  const by = (name: string) => variants.find((v) => v.name === name);
  const m = (v: VariantResult): number => v.outcome.measured as number;
  const se = (v: VariantResult): number => v.outcome.standardError as number;
  const order = ['serial-3', 'single', 'quorum-2-of-3', 'parallel-2'].map(by);
  if (order.every((v) => v !== undefined)) {
    const vs = order as VariantResult[];
    checks.push({
      name: 'serial costs nines and redundancy buys them: serial-3 < single < quorum-2-of-3 < parallel-2',
      pass: vs.every((v, i) => i === 0 || m(v) > m(vs[i - 1]!)),
      detail: vs.map((v) => `${v.name} ${fixed(m(v))}`).join(' < '),
    });
  }
  const one = by('parallel-one-zone');
  const two = by('parallel-two-zones');
  if (one !== undefined && two !== undefined) {
    const zone = one.outcome.zoneTheory as number;
    checks.push({
      name: 'a shared zone caps a redundant pair at the zone: one zone < its zone availability < two zones',
      pass: m(one) < zone + Z * se(one) && m(one) < m(two) - Z * Math.hypot(se(one), se(two)),
      detail: `one zone ${fixed(m(one))}, zone ${fixed(zone)}, two zones ${fixed(m(two))}`,
    });
  }
  const q1 = by('quorum-one-zone');
  const q3 = by('quorum-three-zones');
  if (q1 !== undefined && q3 !== undefined)
    checks.push({
      name: 'a quorum spread over three zones beats one in a single zone',
      pass: m(q1) < m(q3) - Z * Math.hypot(se(q1), se(q3)),
      detail: `one zone ${fixed(m(q1))}, three zones ${fixed(m(q3))}`,
    });
  return checks;
}

function fixed(x: number): string {
  return x.toFixed(6);
}

function signed(x: number): string {
  return Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(2)}` : String(x);
}
