import { DsimError } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import {
  murmur2,
  partitionForKey,
  StickyPartitioner,
  toPositive,
} from '../src/messaging/kafka/partitioner.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

// Kafka's UtilsTest.testMurmur2 (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java).
const MURMUR2_VECTORS: [string, number][] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

/** A seeded LCG (Numerical Recipes constants), uniform in [0, 1). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** A random source that returns `values` in turn. */
function draws(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe('murmur2', () => {
  it.each(MURMUR2_VECTORS)('murmur2(%j) is Kafka’s %i', (text, expected) => {
    expect(murmur2(utf8(text))).toBe(expected);
  });

  it('hashes bytes (every tail length) as a signed 32-bit integer', () => {
    expect(murmur2(new Uint8Array([0x61, 0x62, 0x63]))).toBe(479470107);
    for (let n = 0; n < 9; n++) {
      const h = murmur2(new Uint8Array(n).fill(0xff));
      expect(Number.isInteger(h) && h >= -(2 ** 31) && h < 2 ** 31).toBe(true);
    }
    expect(() => murmur2('abc' as never)).toThrow(/murmur2: data must be a Uint8Array/);
  });

  it('toPositive clears the sign bit', () => {
    expect(toPositive(-973932308)).toBe(1173551340);
    expect(toPositive(-(2 ** 31))).toBe(0);
    expect(toPositive(-1)).toBe(2 ** 31 - 1);
    expect(toPositive(479470107)).toBe(479470107);
  });
});

describe('partitionForKey', () => {
  it('is toPositive(murmur2(utf8(key))) % partitions', () => {
    for (const [text, hash] of MURMUR2_VECTORS) {
      for (const n of [1, 3, 10, 12, 100]) expect(partitionForKey(text, n)).toBe(toPositive(hash) % n);
    }
    expect(partitionForKey('21', 10)).toBe(0);
    expect(partitionForKey(utf8('héllo'), 7)).toBe(partitionForKey('héllo', 7));
  });

  it('rejects a bad partition count or key', () => {
    expect(() => partitionForKey('k', 0)).toThrow(
      /partitionForKey: numPartitions must be an integer in \[1, 2147483647\], got 0/,
    );
    expect(() => partitionForKey(null as never, 3)).toThrow(
      /partitionForKey: key must be a string or a Uint8Array/,
    );
  });
});

describe('StickyPartitioner', () => {
  it('sticks to one partition until batch.size bytes went to it, then draws again', () => {
    const sticky = new StickyPartitioner({ partitions: 4, random: draws(0.3, 0.8, 0.1) });
    expect(sticky.batchSize).toBe(16384);
    expect(sticky.partition()).toBe(1); // floor(0.3 * 4)
    sticky.onAppend(10_000);
    expect(sticky.partition()).toBe(1);
    expect(sticky.producedBytes).toBe(10_000);
    sticky.onAppend(6_384); // 16384 reached
    expect(sticky.partition()).toBe(3);
    expect(sticky.producedBytes).toBe(0);
    expect(sticky.switches).toBe(2);
  });

  it('holds the switch while the batch is not full, up to 2 x batch.size', () => {
    const sticky = new StickyPartitioner({ partitions: 4, batchSize: 100, random: draws(0, 0.5, 0.99) });
    expect(sticky.partition()).toBe(0);
    sticky.onAppend(150, false);
    expect(sticky.partition()).toBe(0);
    sticky.onAppend(0, true); // the queue drained: the held switch happens
    expect(sticky.partition()).toBe(2);
    sticky.onAppend(199, false);
    expect(sticky.partition()).toBe(2);
    sticky.onAppend(1, false); // 2 x batch.size: switch regardless
    expect(sticky.partition()).toBe(3);
  });

  it('may draw the same partition again (KIP-794 does not exclude it)', () => {
    const sticky = new StickyPartitioner({ partitions: 3, batchSize: 1, random: draws(0.5) });
    sticky.onAppend(1);
    sticky.onAppend(1);
    expect(sticky.partition()).toBe(1);
    expect(sticky.switches).toBe(3);
  });

  it('weights draws by queue length: weight max + 1 - queue (the BuiltInPartitioner comment’s example)', () => {
    // Queues 0 3 1 -> weights 4 1 3 -> table 4 5 8: draws 0-3 -> p0, 4 -> p1, 5-7 -> p2.
    const at = (u: number): number => {
      const sticky = new StickyPartitioner({ partitions: 3, random: () => u });
      sticky.updateLoadStats([0, 3, 1]);
      return sticky.partition();
    };
    expect([0, 3 / 8, 4 / 8, 5 / 8, 7.99 / 8].map(at)).toEqual([0, 0, 1, 2, 2]);
  });

  it('draws only among the given partitions, and uniformly when queues are equal or stats are cleared', () => {
    const sticky = new StickyPartitioner({ partitions: 6, batchSize: 1, random: draws(0.99, 0.99, 0.99) });
    sticky.updateLoadStats([2, 2], [1, 4]); // two available partitions, equal queues: still only those two
    expect(sticky.partition()).toBe(4);
    sticky.updateLoadStats([5, 5, 5, 5, 5, 5]);
    sticky.onAppend(1);
    expect(sticky.partition()).toBe(5);
    sticky.updateLoadStats(undefined);
    sticky.onAppend(1);
    expect(sticky.partition()).toBe(5);
  });

  it('spreads unkeyed records evenly over many switches, and replays from the same seed', () => {
    const run = (seed: number): number[] => {
      const sticky = new StickyPartitioner({ partitions: 8, random: lcg(seed) });
      const bytes = new Array<number>(8).fill(0);
      for (let i = 0; i < 40_000; i++) {
        bytes[sticky.partition()]! += 1_000;
        sticky.onAppend(1_000);
      }
      return bytes;
    };
    const bytes = run(11);
    const mean = bytes.reduce((a, b) => a + b, 0) / bytes.length;
    for (const b of bytes) expect(Math.abs(b - mean) / mean).toBeLessThan(0.15);
    expect(run(11)).toEqual(bytes);
    expect(run(12)).not.toEqual(bytes);
  });

  it('rejects bad options and bad draws', () => {
    const random = (): number => 0.5;
    expect(() => new StickyPartitioner({ partitions: 0, random })).toThrow(
      /StickyPartitioner: partitions must be an integer in \[1, 2147483647\], got 0/,
    );
    expect(() => new StickyPartitioner({ partitions: 3, random, batchSize: 0 })).toThrow(
      /StickyPartitioner: batchSize must be an integer >= 1 \(bytes\), got 0/,
    );
    expect(() => new StickyPartitioner({ partitions: 3 } as never)).toThrow(/random must be a function/);
    expect(() => new StickyPartitioner({ partitions: 3, random, batchsize: 10 } as never)).toThrow(
      /unknown option "batchsize" \(did you mean "batchSize"\?\)/,
    );
    expect(() => new StickyPartitioner({ partitions: 3, random: () => 1 }).partition()).toThrow(
      /random\(\) must be a number in \[0, 1\), got 1/,
    );
    const sticky = new StickyPartitioner({ partitions: 3, random });
    expect(() => sticky.onAppend(-1)).toThrow(DsimError);
    expect(() => sticky.updateLoadStats([1, 2], [0, 3])).toThrow(
      /partitionIds\[1\] must be an integer in \[0, 2\], got 3/,
    );
    expect(() => sticky.updateLoadStats([1, 2])).toThrow(
      /partitionIds must be an array as long as queueSizes \(2\)/,
    );
    expect(() => sticky.updateLoadStats([1, -2, 0])).toThrow(
      /queueSizes\[1\] must be an integer >= 0, got -2/,
    );
  });
});
