/**
 * The object without its undefined values, typed so: zod's optionals are `T | undefined`, while the
 * components' options (under `exactOptionalPropertyTypes`) take a key absent or defined.
 *
 * @example
 * ```ts
 * clean({ size: 4, maxPending: undefined }); // { size: 4 }
 * ```
 */
export function clean<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as never;
}
