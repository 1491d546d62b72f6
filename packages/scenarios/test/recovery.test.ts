import { describe, expect, it } from 'vitest';
import { meanRate, recoveryAfter } from '../src/recovery.js';

describe('recovery measures', () => {
  it('meanRate averages the slots in range and ignores slots past the end', () => {
    expect(meanRate([10, 20, 30], 1, 3)).toBe(25);
    expect(meanRate([10, 20, 30], 2, 10)).toBe(30);
    expect(meanRate([10], 5, 9)).toBe(0);
  });

  it('recoveryAfter finds the first second from which every 5 s window serves >= 90% of the offered load', () => {
    const offered = new Array(30).fill(100);
    const ok = offered.map((_, s) => (s < 10 ? 100 : s < 14 ? 0 : s === 20 ? 0 : 100));
    // The dip at second 20 pulls every window that contains it below 90%: windows 16..20 fail.
    expect(recoveryAfter({ ok, offered, triggerEndMs: 12_000, seconds: 30 })).toBe(21_000 - 12_000);
    // At 50%, the window 12..16 (0, 0, 100, 100, 100: 60%) already holds: recovered at the trigger's end.
    expect(recoveryAfter({ ok, offered, triggerEndMs: 12_000, seconds: 30, threshold: 0.5 })).toBe(0);
    expect(
      recoveryAfter({ ok: offered.map(() => 0), offered, triggerEndMs: 12_000, seconds: 30 }),
    ).toBeNull();
  });
});
