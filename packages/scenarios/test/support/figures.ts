/**
 * The number a run's outcome holds under `key`; throws, naming the key and what it holds, when that is
 * not a number (a misspelt figure fails loudly instead of comparing `undefined`).
 */
export function figure(outcome: Record<string, unknown>, key: string): number {
  const v = outcome[key];
  if (typeof v !== 'number') throw new Error(`${key} is ${String(v)}`);
  return v;
}
