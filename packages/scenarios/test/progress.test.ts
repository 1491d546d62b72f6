import { describe, expect, it } from 'vitest';
import { ProgressLine } from '../src/cli/progress.js';
import type { RunProgress } from '../src/scenario.js';

function line() {
  let out = '';
  let now = 0;
  const p = new ProgressLine(
    (t) => (out += t),
    () => now,
  );
  return {
    p,
    at: (ms: number) => (now = ms),
    get out() {
      return out;
    },
  };
}

const at = (wallMs: number, extra: Partial<RunProgress> = {}): RunProgress => ({
  variant: null,
  variantIndex: 0,
  variantCount: 1,
  simulatedMs: 30_000,
  horizonMs: 60_000,
  events: 2_000_000,
  wallMs,
  ...extra,
});

describe('progress line', () => {
  it('stays silent for the first two seconds', () => {
    const l = line();
    l.at(1500);
    l.p.update(at(1500));
    l.p.clear();
    expect(l.out).toBe('');
  });

  it('shows simulated time, rate and ETA, redrawn in place, then erased', () => {
    const l = line();
    l.at(4000);
    l.p.update(at(4000));
    // Half the horizon in 4 s: 4 s left. 2 M events in 4 s.
    expect(l.out).toBe('\r\u001b[2Krunning · simulated 30.0s of 1.0m · 500k events/s · ETA 4s');
    l.at(4100);
    l.p.update(at(4100));
    expect(l.out.split('\r').length).toBe(2); // at most four redraws a second
    l.p.clear();
    expect(l.out.endsWith('\r\u001b[2K')).toBe(true);
  });

  it('counts finished variants in the ETA and has none without a horizon', () => {
    const l = line();
    l.at(10_000);
    l.p.update(at(10_000, { variant: 'b', variantIndex: 1, variantCount: 2, simulatedMs: 30_000 }));
    // 1.5 of 2 variants done in 10 s: 3.4 s left, shown rounded up.
    expect(l.out).toContain('variant 2/2 b');
    expect(l.out).toContain('ETA 4s');
    const m = line();
    m.at(3000);
    m.p.update(at(3000, { horizonMs: null }));
    expect(m.out).not.toContain('ETA');
    expect(m.out).toContain('simulated 30.0s ·');
  });
});
