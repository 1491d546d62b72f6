import { describe, expect, it } from 'vitest';
import { csvField, METRICS_CSV_HEADER, metricsCsv } from '../src/export/csv.js';
import { Simulation } from '../src/simulation.js';

describe('metrics CSV', () => {
  it('writes one row per interval, node, metric and field, with a fixed header', () => {
    const sim = new Simulation({ metricsInterval: '1s' });
    const hits = sim.metrics.counter('cache,eu', 'hits');
    const depth = sim.metrics.gauge('queue "a"', 'depth');
    const latency = sim.metrics.histogram('db', 'latency');
    sim.schedule(100, () => hits.inc(3));
    sim.schedule(1500, () => {
      hits.inc();
      depth.set(4);
      latency.record(12);
    });
    sim.run({ until: 2000 });
    const csv = metricsCsv(sim.metrics.snapshot().series, 'v1');
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).toBe(METRICS_CSV_HEADER);
    expect(lines.slice(1)).toEqual([
      'v1,0,"cache,eu",hits,count,3',
      'v1,1000,"cache,eu",hits,count,1',
      'v1,0,"queue ""a""",depth,mean,0',
      'v1,1000,"queue ""a""",depth,mean,2',
      'v1,0,"queue ""a""",depth,max,0',
      'v1,1000,"queue ""a""",depth,max,4',
      'v1,0,db,latency,count,0',
      'v1,1000,db,latency,count,1',
      'v1,0,db,latency,p50,',
      'v1,1000,db,latency,p50,12',
      'v1,0,db,latency,p99,',
      'v1,1000,db,latency,p99,12',
    ]);
  });

  it('quotes per RFC 4180 only where needed', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
  });
});
