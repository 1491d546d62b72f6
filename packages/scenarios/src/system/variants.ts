import { type Draft, freeze, produce } from 'immer';
import type { SystemDescription } from './schema.js';
import { validateSystem } from './validate.js';

/** A change to a system, written as mutations of a draft (immer). */
export type SystemRecipe = (draft: Draft<SystemDescription>) => void;

/**
 * A variant: applies `recipe` to a base description and returns a new, validated, deeply frozen
 * description; the base is never changed (immer copies what the recipe touches and shares the rest).
 *
 * @example
 * ```ts
 * const p2c = variant((d) => { (d.nodes.lb as { policy?: string }).policy = 'least-request'; });
 * const changed = p2c(base); // base unchanged
 * ```
 */
export function variant(recipe: SystemRecipe): (base: SystemDescription) => SystemDescription {
  return (base) => {
    const next = produce(base, recipe);
    validateSystem(next);
    return freeze(next, true);
  };
}

/**
 * Freezes a description deeply, so that only recipes can derive changed copies.
 *
 * @example
 * ```ts
 * const base = freezeSystem({ nodes: { ... } });
 * ```
 */
export function freezeSystem<T extends SystemDescription>(system: T): T {
  return freeze(system, true);
}

/**
 * Applies named recipes to one base: `{ name: description }`.
 *
 * @example
 * ```ts
 * const all = systemVariants(base, { rr: () => {}, p2c: (d) => { ... } });
 * ```
 */
export function systemVariants(
  base: SystemDescription,
  recipes: Readonly<Record<string, SystemRecipe>>,
): Record<string, SystemDescription> {
  return Object.fromEntries(Object.entries(recipes).map(([n, r]) => [n, variant(r)(base)]));
}
