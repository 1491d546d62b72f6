import { describe, expect, it } from 'vitest';
import { estimate, formatEstimate } from '../src/fundamentals/estimate.js';
import { thrown } from './support/thrown.js';

describe('the worked example of docs/fundamentals.md, by hand', () => {
  // 10M daily users, 20 requests each, peak 3x the average, 9 reads per write, 1 KB in and 10 KB out,
  // every write stores its 1 KB for 5 years on 3 replicas; servers of 8 workers at 20 ms, run at 70%.
  const e = estimate({
    users: 10_000_000,
    requestsPerUser: 20,
    peakFactor: 3,
    readsPerWrite: 9,
    requestBytes: 1_000,
    responseBytes: 10_000,
    retention: '5y',
    replication: 3,
    serviceTime: '20ms',
    workers: 8,
    targetUtilization: 0.7,
  });

  it('rates: 200M requests a day is 2314.8/s on average, 6944.4/s at the peak; 694.4 writes/s', () => {
    expect(e.averageQps).toBeCloseTo(200_000_000 / 86_400, 9); // 2314.81
    expect(e.peakQps).toBeCloseTo(6944.444, 3);
    expect(e.peakWriteQps).toBeCloseTo(694.444, 3); // 1 / (1 + 9) of the peak
    expect(e.peakReadQps).toBeCloseTo(6250, 6);
  });

  it('bandwidth at the peak: 6.94 MB/s in, 69.4 MB/s (556 Mbit/s) out', () => {
    expect(e.peakIngressBytesPerSecond).toBeCloseTo(6_944_444.4, 0);
    expect(e.peakEgressBytesPerSecond).toBeCloseTo(69_444_444, 0);
  });

  it('storage: 20M writes of 1 KB a day is 20 GB; 5 years × 3 copies is 109.5 TB', () => {
    expect(e.storagePerDayBytes).toBeCloseTo(20e9, 0);
    expect(e.retainedBytes).toBeCloseTo(20e9 * 1825 * 3, 0);
  });

  it('servers: 8 workers / 20 ms = 400 req/s each, 280 at 70%; 6944.4 / 280 = 24.8, so 25 at 69.4%', () => {
    expect(e.serverCapacity).toBeCloseTo(400, 9);
    expect(e.servers).toBe(25);
    expect(e.peakUtilization).toBeCloseTo(6944.444 / 10_000, 6);
  });

  it('prints the worked table, one line per figure', () => {
    expect(e.rows.map((r) => [r.quantity, r.display])).toEqual([
      ['average QPS', '2315 req/s'],
      ['peak QPS', '6944 req/s'],
      ['peak write QPS', '694.4 req/s'],
      ['peak read QPS', '6250 req/s'],
      ['peak ingress', '6.94 MB/s (55.6 Mbit/s)'],
      ['peak egress', '69.4 MB/s (556 Mbit/s)'],
      ['storage per day', '20 GB'],
      ['storage over retention', '110 TB'],
      ['server capacity', '400 req/s'],
      ['servers at peak', '25 servers'],
      ['utilisation at peak', '69.4%'],
    ]);
    const text = formatEstimate(e);
    expect(text.split('\n')[0]).toMatch(/^quantity\s+formula\s+worked\s+value$/);
    expect(text).toContain('servers at peak         ⌈peak QPS / (server capacity × targetUtilization)⌉');
    expect(text).toContain('⌈6944 / (400 × 0.7)⌉   25 servers');
    expect(text).toContain('10M × 20 × 0.1 × 1k B');
    expect(text.endsWith('69.4%\n')).toBe(true);
  });
});

describe('the figures follow their formulas', () => {
  it('a write share, a capacity given directly, retention in days, default replication and target', () => {
    const e = estimate({
      users: 1_000_000,
      requestsPerUser: 10,
      peakFactor: 3,
      writeShare: 0.2,
      bytesPerWrite: 500,
      retention: '30d',
      serverCapacity: 50,
    });
    expect(e.averageQps).toBeCloseTo(115.7407, 4);
    expect(e.peakQps).toBeCloseTo(347.2222, 4);
    expect(e.storagePerDayBytes).toBe(1e6 * 10 * 0.2 * 500); // 1 GB
    expect(e.retainedBytes).toBe(1e9 * 30); // replication 1
    expect(e.servers).toBe(10); // 347.2 / (50 × 0.7) = 9.92
    expect(e.peakUtilization).toBeCloseTo(0.6944, 4);
    expect(e.inputs.targetUtilization).toBe(0.7);
    expect(e.inputs.replication).toBe(1);
    expect(e.peakIngressBytesPerSecond).toBeNull();
    expect(e.rows.map((r) => r.quantity)).not.toContain('server capacity');
    // At 95% the same load needs 8 servers (7.3), which run at 86.8%.
    const tight = estimate({
      users: 1_000_000,
      requestsPerUser: 10,
      peakFactor: 3,
      serverCapacity: 50,
      targetUtilization: 0.95,
    });
    expect(tight.servers).toBe(8);
    expect(tight.peakUtilization).toBeCloseTo(0.868, 3);
  });

  it('a ratio within rounding of a whole number is that number: 350 / (50 × 0.7) gives 10, not 11', () => {
    // 86 400 users × 1 request × 350/... : average 1/s; peak factor 350 makes 350/s.
    const e = estimate({
      users: 86_400,
      requestsPerUser: 1,
      peakFactor: 350,
      serverCapacity: 50,
      targetUtilization: 0.7,
    });
    expect(e.peakQps).toBeCloseTo(350, 9);
    expect(e.servers).toBe(10);
  });

  it('only what the options allow: no split, no bandwidth, no storage, no servers', () => {
    const e = estimate({ users: 1, requestsPerUser: 86_400, peakFactor: 1 });
    expect(e.averageQps).toBe(1);
    expect(e.rows.map((r) => r.quantity)).toEqual(['average QPS', 'peak QPS']);
    expect([e.peakWriteQps, e.storagePerDayBytes, e.servers, e.peakEgressBytesPerSecond]).toEqual([
      null,
      null,
      null,
      null,
    ]);
  });
});

describe('bad input names the field and what is allowed', () => {
  const base = { users: 1e6, requestsPerUser: 10, peakFactor: 2 };
  it.each([
    [
      () => estimate({ ...base, users: 0 }),
      /estimate: users must be daily active users, a finite number > 0, got 0/,
    ],
    [
      () => estimate({ ...base, peakFactor: 0.5 }),
      /peakFactor must be the peak over the average rate, a finite number >= 1, got 0.5/,
    ],
    [() => estimate({ ...base, usres: 5 } as never), /unknown option "usres" \(did you mean "users"\?\)/],
    [
      () => estimate({ ...base, writeShare: 0.1, readsPerWrite: 9 }),
      /readsPerWrite must be left out when writeShare is given/,
    ],
    [
      () => estimate({ ...base, writeShare: 1.5 }),
      /writeShare must be the share of requests that write, in \[0, 1\], got 1.5/,
    ],
    [
      () => estimate({ ...base, requestBytes: -1 }),
      /requestBytes must be a number of bytes, finite and >= 0, got -1/,
    ],
    [() => estimate({ ...base, retention: '5y' }), /retention must be given with the writes/],
    [
      () => estimate({ ...base, writeShare: 0.1, requestBytes: 100, retention: '5 years' }),
      /retention \(units us, ms, s, m, h, d, w, y\) must be a number of milliseconds or a string with a unit/,
    ],
    [
      () => estimate({ ...base, writeShare: 0.1, requestBytes: 100, retention: '0d' }),
      /retention must be a finite duration > 0/,
    ],
    [
      () => estimate({ ...base, writeShare: 0.1, requestBytes: 100, retention: '1y', replication: 2.5 }),
      /replication must be copies of each byte, an integer in \[1, 1000\], got 2.5/,
    ],
    [() => estimate({ ...base, replication: 3 }), /replication must be given with retention/],
    [
      () => estimate({ ...base, serverCapacity: 100, serviceTime: '10ms' }),
      /serviceTime must be left out when serverCapacity is given/,
    ],
    [() => estimate({ ...base, workers: 8 }), /workers must be given with serviceTime/],
    [
      () => estimate({ ...base, serviceTime: '10ms', workers: 0 }),
      /workers must be an integer in \[1, 1000000\], got 0/,
    ],
    [
      () => estimate({ ...base, serverCapacity: 100, targetUtilization: 0 }),
      /targetUtilization must be a busy share in \(0, 1\]/,
    ],
    [
      () => estimate({ ...base, targetUtilization: 0.7 }),
      /targetUtilization must be given with serverCapacity or serviceTime/,
    ],
  ])('%#', (fn, message) => {
    expect(thrown(fn).message).toMatch(message);
  });
});
