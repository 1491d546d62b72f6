import {
  type DsimError,
  invalidArgument,
  invalidOption,
  isObject,
  type Owner,
  optionKeys,
  owner,
  requireOptions,
  showValue,
} from '@dsim/core';
import type { EvictionContext, EvictionKind, EvictionSpec } from './types.js';

/**
 * Validation and storage helpers shared by the eviction policies. Internal: not part of the package's
 * public surface.
 */

/** Slots a policy allocates up front: enough for small caches, grown by doubling for large ones. */
const INITIAL_SLOTS = 1024;

type SpecOf<K extends EvictionKind> = Extract<EvictionSpec, { readonly kind: K }>;

/**
 * The keys each eviction kind takes, `kind` included; checked against {@link EvictionSpec} at compile
 * time, so a new option cannot be forgotten here. @internal
 */
export const EVICTION_OPTION_KEYS: Readonly<Record<EvictionKind, readonly string[]>> = Object.freeze({
  lru: optionKeys<SpecOf<'lru'>>()({ kind: true }),
  fifo: optionKeys<SpecOf<'fifo'>>()({ kind: true }),
  random: optionKeys<SpecOf<'random'>>()({ kind: true }),
  lfu: optionKeys<SpecOf<'lfu'>>()({ kind: true, halfLife: true }),
  ttl: optionKeys<SpecOf<'ttl'>>()({ kind: true }),
  'redis-lru': optionKeys<SpecOf<'redis-lru'>>()({ kind: true, samples: true, volatile: true }),
  'redis-lfu': optionKeys<SpecOf<'redis-lfu'>>()({
    kind: true,
    samples: true,
    logFactor: true,
    decayTime: true,
    volatile: true,
  }),
  arc: optionKeys<SpecOf<'arc'>>()({ kind: true }),
  'w-tinylfu': optionKeys<SpecOf<'w-tinylfu'>>()({
    kind: true,
    windowPercent: true,
    protectedPercent: true,
    randomAdmission: true,
    hillClimber: true,
  }),
  none: optionKeys<SpecOf<'none'>>()({ kind: true }),
});

/**
 * The owner a policy built directly reports errors as: the class, with the options at `eviction` (where
 * they sit in every cache's options). @internal
 */
export function policyOwner(className: string): Owner {
  return owner(className, 'eviction');
}

/**
 * Checks an {@link EvictionContext}: `capacity` an integer >= 1, `rng` a random stream. Errors name
 * `eviction.capacity` / `eviction.rng` and the policy.
 */
export function checkContext(kind: EvictionKind, ctx: EvictionContext, where: Owner): void {
  if (!isObject(ctx)) throw invalidOption(where, 'context', ctx, `an object { capacity, rng } (${kind})`);
  const { capacity, rng } = ctx;
  if (typeof capacity !== 'number' || !Number.isSafeInteger(capacity) || capacity < 1) {
    throw invalidOption(where, 'capacity', capacity, `an integer >= 1, in entries or bytes (${kind})`);
  }
  if (
    typeof rng !== 'object' ||
    rng === null ||
    typeof rng.next !== 'function' ||
    typeof rng.int !== 'function'
  ) {
    throw invalidOption(where, 'rng', rng, `a RandomStream such as sim.rng("cache/evict") (${kind})`);
  }
}

/**
 * Checks a policy's options object: an object whose keys are all known for `kind` ("did you mean" for a
 * typo), and whose `kind`, when present, is `kind`. Errors name the field (`eviction.<field>`).
 */
export function checkPolicyOptions(kind: EvictionKind, options: unknown, where: Owner): void {
  requireOptions(where, options, EVICTION_OPTION_KEYS[kind]);
  const given = (options as { kind?: unknown }).kind;
  if (given !== undefined && given !== kind)
    throw invalidOption(where, 'kind', given, `${showValue(kind)} for this policy (or left out)`);
}

/** The error for a `put` size that is not a finite number > 0. */
export function badSize(kind: EvictionKind, key: string, size: unknown): DsimError {
  return invalidArgument('eviction.size', size, `a finite number > 0 (${kind}: put(${showValue(key)}))`);
}

/** The error for an `expiresAt` that is not a number (NaN included). */
export function badExpiry(kind: EvictionKind, key: string, expiresAt: unknown): DsimError {
  return invalidArgument(
    'eviction.expiresAt',
    expiresAt,
    `a time in ms, or Infinity for no TTL (${kind}: put(${showValue(key)}))`,
  );
}

/** Slot arrays to allocate first for a policy of `capacity` units (slot 0 is often a sentinel). */
export function initialSlots(capacity: number): number {
  return Math.min(capacity, INITIAL_SLOTS) + 1;
}

/** A copy of `a` with room for `length` elements (the rest zero). */
export function growInt32(a: Int32Array, length: number): Int32Array {
  const b = new Int32Array(length);
  b.set(a);
  return b;
}

/** A copy of `a` with room for `length` elements (the rest zero). */
export function growFloat64(a: Float64Array, length: number): Float64Array {
  const b = new Float64Array(length);
  b.set(a);
  return b;
}

/** An array of `length` empty strings (a packed array of strings, for slot → key tables). */
export function emptyKeys(length: number): string[] {
  // Pushing keeps the array packed; `new Array(n).fill('')` would stay holey (slower element loads).
  const keys: string[] = [];
  for (let i = 0; i < length; i++) keys.push('');
  return keys;
}

/**
 * A circular doubly linked list of keys over typed arrays, with slot 0 as the sentinel: `next[0]` is the
 * head (oldest), `prev[0]` the tail (newest). Slots are recycled through a free list, so steady-state
 * use allocates nothing. Used by the LRU and FIFO policies.
 */
export class KeyList {
  /** Key → slot. */
  readonly index = new Map<string, number>();
  /** Slot → key ('' when free). */
  keys: string[];
  /** Slot → size in units. */
  sizes: Float64Array;
  /** Slot → previous slot (towards the head). */
  prev: Int32Array;
  /** Slot → next slot (towards the tail); threads the free list for free slots. */
  next: Int32Array;
  private freeHead = -1;
  private highWater = 1;

  constructor(capacity: number) {
    const n = initialSlots(capacity);
    this.keys = emptyKeys(n);
    this.sizes = new Float64Array(n);
    this.prev = new Int32Array(n);
    this.next = new Int32Array(n);
  }

  /** Keys in the list. */
  get size(): number {
    return this.index.size;
  }

  /** Appends `key` at the tail; returns its slot. The key must not be in the list. */
  pushBack(key: string, size: number): number {
    let s = this.freeHead;
    if (s !== -1) {
      this.freeHead = this.next[s]!;
    } else {
      if (this.highWater === this.keys.length) this.grow();
      s = this.highWater++;
    }
    this.keys[s] = key;
    this.sizes[s] = size;
    const prev = this.prev;
    const next = this.next;
    const tail = prev[0]!;
    prev[s] = tail;
    next[s] = 0;
    next[tail] = s;
    prev[0] = s;
    this.index.set(key, s);
    return s;
  }

  /** Moves slot `s` to the tail (most recent). */
  moveToBack(s: number): void {
    const prev = this.prev;
    const next = this.next;
    const n = next[s]!;
    if (n === 0) return;
    const p = prev[s]!;
    next[p] = n;
    prev[n] = p;
    const tail = prev[0]!;
    prev[s] = tail;
    next[s] = 0;
    next[tail] = s;
    prev[0] = s;
  }

  /** Unlinks slot `s`, forgets its key and frees the slot. */
  delete(s: number): void {
    const prev = this.prev;
    const next = this.next;
    const p = prev[s]!;
    const n = next[s]!;
    next[p] = n;
    prev[n] = p;
    this.index.delete(this.keys[s]!);
    this.keys[s] = '';
    next[s] = this.freeHead;
    this.freeHead = s;
  }

  /** Empties the list. */
  clear(): void {
    this.index.clear();
    this.keys.fill('', 0, this.highWater);
    this.prev[0] = 0;
    this.next[0] = 0;
    this.freeHead = -1;
    this.highWater = 1;
  }

  private grow(): void {
    const n = this.keys.length * 2;
    for (let i = this.keys.length; i < n; i++) this.keys.push('');
    this.sizes = growFloat64(this.sizes, n);
    this.prev = growInt32(this.prev, n);
    this.next = growInt32(this.next, n);
  }
}
