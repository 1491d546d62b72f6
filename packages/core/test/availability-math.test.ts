import { describe, expect, it } from 'vitest';
import {
  allowedDowntime,
  availabilityFromMttf,
  exponential,
  kOfNAvailability,
  nines,
  parallelAvailability,
  Simulation,
  serialAvailability,
  zonalAvailability,
} from '../src/index.js';
import { thrown } from './support/thrown.js';

describe('availability math, the worked examples of docs/fundamentals.md', () => {
  it('serial: three dependencies at 99.9% give 99.7%', () => {
    expect(serialAvailability([0.999, 0.999, 0.999])).toBeCloseTo(0.997002999, 12);
  });

  it('parallel: two replicas at 99% give 99.99%', () => {
    expect(parallelAvailability([0.99, 0.99])).toBeCloseTo(0.9999, 12);
  });

  it('k of n: a 2-of-3 quorum of 99% nodes is 99.9702%', () => {
    // 3 a^2 (1 - a) + a^3 = 3 * 0.9801 * 0.01 + 0.970299
    expect(kOfNAvailability(2, 3, 0.99)).toBeCloseTo(0.999702, 12);
  });

  it('MTTF and MTTR: failing once in 30 days and recovering in an hour is 99.86%', () => {
    expect(availabilityFromMttf('30d', '1h')).toBeCloseTo(720 / 721, 12);
  });

  it('a balancer, a service and a 2-of-3 database quorum at 99.9%: about 26 minutes down in 30 days', () => {
    const db = kOfNAvailability(2, 3, 0.999);
    expect(db).toBeCloseTo(0.999997002, 12);
    const path = serialAvailability([0.9999, 0.9995, db]);
    expect(allowedDowntime(path) / 60_000).toBeCloseTo(26.05, 2);
    // Recovering in 5 minutes instead of an hour.
    expect(availabilityFromMttf('30d', '5m')).toBeCloseTo(0.999884, 6);
  });

  it('downtime: 99.9% allows 43.2 minutes in 30 days, 99.99% 52.56 minutes a year', () => {
    expect(allowedDowntime(0.999) / 60_000).toBeCloseTo(43.2, 9);
    expect(allowedDowntime(0.9999, '365d') / 60_000).toBeCloseTo(52.56, 9);
    expect(nines(0.999)).toBeCloseTo(3, 9);
    expect(nines(1)).toBe(Infinity);
  });
});

describe('k of n against every up/down state', () => {
  it('equals the sum over all 2^n states for n up to 10, every k, several availabilities', () => {
    for (let n = 1; n <= 10; n++) {
      for (const a of [0, 0.3, 0.9, 0.99, 0.999999, 1]) {
        for (let k = 0; k <= n; k++) {
          let exact = 0;
          for (let mask = 0; mask < 1 << n; mask++) {
            let up = 0;
            let p = 1;
            for (let i = 0; i < n; i++) {
              if (mask & (1 << i)) {
                up++;
                p *= a;
              } else p *= 1 - a;
            }
            if (up >= k) exact += p;
          }
          expect(kOfNAvailability(k, n, a), `k=${k} n=${n} a=${a}`).toBeCloseTo(exact, 12);
        }
      }
    }
  });

  it('1 of n is parallel, n of n is serial', () => {
    expect(kOfNAvailability(1, 4, 0.9)).toBeCloseTo(parallelAvailability([0.9, 0.9, 0.9, 0.9]), 14);
    expect(kOfNAvailability(4, 4, 0.9)).toBeCloseTo(serialAvailability([0.9, 0.9, 0.9, 0.9]), 14);
  });

  it('keeps the small tail exact: 3 of 5 at 99.99% is down 1e-11 of the time, not 0 or negative', () => {
    // Down when 3 or more of 5 are down: C(5,3) (1e-4)^3 (1 - 1e-4)^2 + ... ≈ 1e-11.
    const down = 1 - kOfNAvailability(3, 5, 0.9999);
    expect(down).toBeGreaterThan(0.9e-11);
    expect(down).toBeLessThan(1.1e-11);
  });
});

describe('MTTF / (MTTF + MTTR) against a simulated component', () => {
  it('exponential up and repair times: the measured up fraction is within 0.6% of the formula, 5 seeds', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const sim = new Simulation({ seed });
      const mttf = 10_000;
      const mttr = 1_000;
      const rng = sim.rng('component');
      let upTime = 0;
      sim.process(function* () {
        for (let i = 0; i < 4000; i++) {
          const up = exponential({ mean: mttf }).sample(rng);
          upTime += up;
          yield sim.timeout(up);
          yield sim.timeout(exponential({ mean: mttr }).sample(rng));
        }
      });
      sim.run();
      const measured = upTime / sim.now;
      // 4000 cycles: mean up and down times each within about 1.6% (1 / sqrt(4000)); the up fraction
      // moves by (1 - A) times their difference, about 0.2% (one sd). 0.6% is three.
      expect(Math.abs(measured / availabilityFromMttf(mttf, mttr) - 1), `seed ${seed}`).toBeLessThan(0.006);
    }
  });
});

describe('zones: correlated failures', () => {
  it('two replicas at 99%: 99.99% in two 99.9% zones... 99.988%; in one zone only 99.89%', () => {
    expect(zonalAvailability({ zones: 1, replicasPerZone: 2, replica: 0.99, zone: 0.999 })).toBeCloseTo(
      0.9989001,
      12,
    );
    expect(zonalAvailability({ zones: 2, replicasPerZone: 1, replica: 0.99, zone: 0.999 })).toBeCloseTo(
      1 - (1 - 0.999 * 0.99) ** 2,
      12,
    );
    // With zones that never fail it is k of n.
    expect(zonalAvailability({ zones: 3, replicasPerZone: 2, need: 4, replica: 0.9, zone: 1 })).toBeCloseTo(
      kOfNAvailability(4, 6, 0.9),
      14,
    );
  });

  it('equals the sum over every zone and replica state (3 zones of 2, every need)', () => {
    const Z = 3;
    const r = 2;
    const a = 0.8;
    const z = 0.7;
    for (let need = 0; need <= Z * r; need++) {
      let exact = 0;
      for (let zm = 0; zm < 1 << Z; zm++) {
        for (let rm = 0; rm < 1 << (Z * r); rm++) {
          let p = 1;
          let up = 0;
          for (let i = 0; i < Z; i++) p *= zm & (1 << i) ? z : 1 - z;
          for (let i = 0; i < Z * r; i++) {
            const replicaUp = (rm & (1 << i)) !== 0;
            p *= replicaUp ? a : 1 - a;
            if (replicaUp && zm & (1 << Math.floor(i / r))) up++;
          }
          if (up >= need) exact += p;
        }
      }
      expect(zonalAvailability({ zones: Z, replicasPerZone: r, need, replica: a, zone: z })).toBeCloseTo(
        exact,
        12,
      );
    }
  });

  it('matches a simulation of zones and replicas failing and recovering on their own clocks', () => {
    // 3 zones of 2 replicas, 4 needed. Zone: up 9 h, down 1 h on average (0.9); replica: up 19 h, down
    // 1 h (0.95). The service's up time is measured over 200 000 simulated hours.
    const H = 3_600_000;
    const sim = new Simulation({ seed: 7 });
    const zoneUp = [true, true, true];
    const replicaUp = [true, true, true, true, true, true];
    let upSince = 0;
    let upTime = 0;
    const serviceUp = (): boolean => replicaUp.filter((u, i) => u && zoneUp[Math.floor(i / 2)]).length >= 4;
    let wasUp = true;
    const changed = (): void => {
      const now = serviceUp();
      if (wasUp && !now) upTime += sim.now - upSince;
      if (!wasUp && now) upSince = sim.now;
      wasUp = now;
    };
    const flip = (state: boolean[], i: number, mttf: number, mttr: number, stream: string) => {
      const rng = sim.rng(stream);
      sim.process(function* () {
        for (;;) {
          yield sim.timeout(exponential({ mean: state[i] ? mttf : mttr }).sample(rng));
          state[i] = !state[i];
          changed();
        }
      });
    };
    for (let i = 0; i < 3; i++) flip(zoneUp, i, 9 * H, 1 * H, `zone-${i}`);
    for (let i = 0; i < 6; i++) flip(replicaUp, i, 19 * H, 1 * H, `replica-${i}`);
    const end = 200_000 * H;
    sim.run({ until: end });
    if (wasUp) upTime += end - upSince;
    const measured = upTime / end;
    const predicted = zonalAvailability({ zones: 3, replicasPerZone: 2, need: 4, replica: 0.95, zone: 0.9 });
    // 0.9253 predicted; 200 000 hours hold tens of thousands of zone and replica failures.
    expect(Math.abs(measured - predicted)).toBeLessThan(0.005);
    // And the correlated model is not the independent one: 6 replicas failing alone at 0.9 × 0.95 each
    // would say 0.9567, three points more than the zones allow.
    expect(kOfNAvailability(4, 6, 0.9 * 0.95) - predicted).toBeGreaterThan(0.025);
    expect(Math.abs(measured - kOfNAvailability(4, 6, 0.9 * 0.95))).toBeGreaterThan(0.02);
  });
});

describe('bad input names the field and what is allowed', () => {
  it.each([
    [() => serialAvailability([]), /parts.*non-empty array/],
    [() => serialAvailability([0.9, 1.2]), /parts\[1\].*availability in \[0, 1\]/],
    [() => parallelAvailability([Number.NaN]), /parts\[0\]/],
    [() => kOfNAvailability(4, 3, 0.9), /k.*integer in \[0, 3\]/],
    [() => kOfNAvailability(1, 0, 0.9), /n.*\[1, 1000000\]/],
    [() => kOfNAvailability(1, 3, 99.9), /a.*such as 0\.999/],
    [() => availabilityFromMttf(0, '1h'), /mttf.*> 0/],
    [() => availabilityFromMttf('30 days', '1h'), /mttf/],
    [() => allowedDowntime(0.999, 0), /period.*> 0/],
    [
      () => zonalAvailability({ zones: 2, replicasPerZone: 2, replica: 0.9, zone: 0.9, nead: 2 } as never),
      /nead.*need/,
    ],
    [
      () => zonalAvailability({ zones: 2, replicasPerZone: 2, need: 5, replica: 0.9, zone: 0.9 }),
      /need.*\[0, 4\]/,
    ],
    [() => zonalAvailability({ zones: 0, replicasPerZone: 2, replica: 0.9, zone: 0.9 }), /zones/],
  ])('%#', (fn, message) => {
    expect(thrown(fn).message).toMatch(message);
  });
});
