import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The chart library inlined into every report. */
export interface ReportAssets {
  /** uPlot's IIFE build (defines the global `uPlot`). */
  script: string;
  /** uPlot's stylesheet. */
  style: string;
}

let cached: ReportAssets | undefined;

/**
 * uPlot's script and stylesheet, read from the installed `uplot` package (a dependency of
 * `@dsim/scenarios`, resolved from this module, so the sources and the built `dist/` both find it).
 * Throws if either could close its inline `<script>`/`<style>` element early.
 */
export function reportAssets(): ReportAssets {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  const read = (file: string) => readFileSync(require.resolve(`uplot/dist/${file}`), 'utf8');
  const script = read('uPlot.iife.min.js');
  const style = read('uPlot.min.css');
  if (/<\/script/i.test(script) || /<\/style/i.test(style))
    throw new Error('the installed uplot assets contain a closing tag and cannot be inlined');
  cached = { script, style };
  return cached;
}
