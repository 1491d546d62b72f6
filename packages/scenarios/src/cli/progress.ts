import type { RunProgress } from '../scenario.js';

/**
 * A one-line progress display on a terminal's stderr, redrawn in place: variant, simulated time,
 * events per second and an ETA when the scenario has a known horizon. It appears only after the run
 * has taken two seconds and redraws at most a few times a second; `clear()` erases it.
 *
 * @example
 * ```ts
 * const line = new ProgressLine((t) => process.stderr.write(t), () => performance.now());
 * runScenario(scenario, { onProgress: (p) => line.update(p) });
 * line.clear();
 * ```
 */
export class ProgressLine {
  private shown = false;
  private lastDraw = -Infinity;

  constructor(
    private readonly write: (text: string) => void,
    private readonly now: () => number,
    private readonly delayMs = 2000,
  ) {}

  /** Takes the latest progress; draws when due. */
  update(p: RunProgress): void {
    if (p.wallMs < this.delayMs) return;
    const t = this.now();
    if (t - this.lastDraw < 250) return;
    this.lastDraw = t;
    const rate = p.events / Math.max(p.wallMs / 1000, 1e-3);
    const parts = [
      p.variant === null ? 'running' : `variant ${p.variantIndex + 1}/${p.variantCount} ${p.variant}`,
      `simulated ${formatSimMs(p.simulatedMs)}${p.horizonMs === null ? '' : ` of ${formatSimMs(p.horizonMs)}`}`,
      `${formatCount(rate)} events/s`,
    ];
    const eta = estimate(p);
    if (eta !== null) parts.push(`ETA ${formatWall(eta)}`);
    this.write(`\r\u001b[2K${parts.join(' · ')}`);
    this.shown = true;
  }

  /** Erases the line, if drawn. */
  clear(): void {
    if (this.shown) this.write('\r\u001b[2K');
    this.shown = false;
  }
}

/** Remaining real time, when the horizon is known: the variants left run as fast as this one so far. */
function estimate(p: RunProgress): number | null {
  if (p.horizonMs === null || p.simulatedMs <= 0) return null;
  const done = (p.variantIndex + Math.min(1, p.simulatedMs / p.horizonMs)) / p.variantCount;
  if (done <= 0) return null;
  return (p.wallMs * (1 - done)) / done;
}

function formatSimMs(ms: number): string {
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)}h`;
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)}m`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.round(ms)}ms`;
}

function formatWall(ms: number): string {
  const s = Math.ceil(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)}k`;
  return n.toFixed(0);
}
