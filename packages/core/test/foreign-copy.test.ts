// Two copies of @dsim/core in one process (two installed versions, or a module loaded twice) must still
// work together: checks on user objects use Symbol.for brands, not instanceof. The second copy here is
// the built package, loaded beside the sources the tests run on.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as here from '../src/index.js';

const DIST = resolve(import.meta.dirname, '../dist/index.js');

describe.runIf(existsSync(DIST))('a second copy of @dsim/core', () => {
  it('its events, resource requests and simulations are recognised', async () => {
    const other = (await import(pathToFileURL(DIST).href)) as typeof here;
    expect(other.SimEvent).not.toBe(here.SimEvent);
    const sim = new here.Simulation({ seed: 1 });
    const foreign = new other.Resource(sim as never, { capacity: 1, name: 'desk' });
    const probe = new other.Resource(sim as never, { capacity: 1 });
    expect(probe.request() instanceof here.SimEvent).toBe(false);
    expect(here.isSimEvent(sim.timeout(1))).toBe(true);
    expect(here.isSimEvent(new other.Simulation({ seed: 1 }).timeout(1))).toBe(true);
    expect(here.isSimulation(new other.Simulation({ seed: 1 }))).toBe(true);
    expect(here.isSimEvent({ ok: true, value: 1 })).toBe(false);
    const served: number[] = [];
    for (let i = 0; i < 3; i++) {
      sim.process(function* customer() {
        const req = yield* foreign.request();
        yield sim.timeout(5);
        foreign.release(req);
        served.push(sim.now);
      });
    }
    sim.run();
    expect(served).toEqual([5, 10, 15]);
  });
});

describe.runIf(existsSync(DIST))('RPC between two copies of @dsim/core', () => {
  it('a client of one copy and a server of the other answer each other, late answers included', async () => {
    const other = (await import(pathToFileURL(DIST).href)) as typeof here;
    const sim = new here.Simulation({ seed: 1 });
    const net = new here.Network(sim, { defaults: { latency: 1 } });
    const serverNode = net.addNode('server');
    new other.RpcEndpoint(serverNode as never).serve((req, reply) => {
      serverNode.setTimer(req.payload === 'slow' ? 50 : 1, () => reply.ok(`${req.payload}!`));
    });
    const client = new here.RpcEndpoint(net.addNode('client'));
    const answers: unknown[] = [];
    client.callThen('server', 'fast', undefined, (res) => answers.push(res.ok && res.value));
    client.callThen('server', 'slow', { timeout: 10 }, (res) => answers.push(res.ok || res.error.kind));
    sim.run();
    expect(answers).toEqual(['fast!', 'timeout']);
    expect(client.stats).toMatchObject({ sent: 2, ok: 1, failed: 1, late: 1, inFlight: 0 });
  });
});
