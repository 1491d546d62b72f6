import {
  DsimError,
  exponential,
  Network,
  type Reply,
  RpcEndpoint,
  type RpcErrorKind,
  type RpcRequest,
  type RpcResponse,
  Simulation,
  type TraceRecord,
} from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { RatioRetryBudget } from '../src/client/ratio-budget.js';
import {
  type ClientResponse,
  RetryingClient,
  type RetryingClientOptions,
} from '../src/client/retrying-client.js';
import { createBackoff } from '../src/resilience/backoff.js';
import { CircuitBreaker } from '../src/resilience/circuit-breaker.js';
import { AdaptiveThrottle, EnvoyRetryBudget, RetryQuota } from '../src/resilience/retry-budget.js';
import { Service } from '../src/service/service.js';

type Handler = (request: RpcRequest, reply: Reply<unknown>) => void;

/** A client node 'app' and a server node 'server' on a zero-latency network. */
function setup(
  handler: Handler,
  options: RetryingClientOptions | ((sim: Simulation) => RetryingClientOptions) = {},
  seed: number | string = 1,
) {
  const sim = new Simulation({ seed });
  const net = new Network(sim);
  const serverNode = net.addNode('server');
  const received: RpcRequest[] = [];
  const server = new RpcEndpoint(serverNode).serve((request, reply) => {
    received.push(request);
    handler(request, reply);
  });
  const app = new RpcEndpoint(net.addNode('app'));
  const client = new RetryingClient(app, typeof options === 'function' ? options(sim) : options);
  const responses: ClientResponse[] = [];
  /** Calls `server` n times, `gap` ms apart, starting now. */
  const fire = (n: number, gap: number): void => {
    for (let i = 0; i < n; i++) {
      sim.schedule(i * gap, () => {
        client.call('server', i).onProcessed((e) => responses.push(e.value!));
      });
    }
  };
  return { sim, net, serverNode, server, app, client, received, responses, fire };
}

const never: Handler = () => {};

/** A request being served upstream, whose deadline and key propagate. */
function parentRequest(deadline: number, key?: string): RpcRequest {
  return {
    id: 9,
    from: 'edge',
    to: 'app',
    payload: null,
    origin: 0,
    deadline,
    attempt: 1,
    key,
    size: 0,
    sentAt: 0,
  };
}
const failWith =
  (kind: Exclude<RpcErrorKind, 'timeout'>): Handler =>
  (_request, reply) =>
    reply.error(kind);

describe('amplification when the server is stuck', () => {
  it('without a budget every request makes exactly maxAttempts attempts', () => {
    const { sim, client, app, received, responses, fire } = setup(never, { timeout: 100, maxAttempts: 3 });
    fire(200, 10);
    sim.run();
    const s = client.stats;
    expect(s).toMatchObject({ requests: 200, failed: 200, ok: 0, inFlight: 0, attempts: 600, retries: 400 });
    expect(app.stats.sent).toBe(600);
    expect(received.length).toBe(600);
    expect(responses.every((r) => !r.ok && r.error.kind === 'timeout' && r.reason === 'exhausted')).toBe(
      true,
    );
    expect(responses.every((r) => r.latency === 300 && r.attempts === 3)).toBe(true);
  });

  it('a ratio budget of 0.1 allows retries of about 10% of requests, plus the per-second reserve', () => {
    // 1000 requests in 5 s, all inside one 10 s ttl window: withdrawals (1 retry = 10 deposits) <= 100.
    const noReserve = setup(never, {
      timeout: 100,
      maxAttempts: 3,
      budget: { kind: 'ratio', ratio: 0.1, minPerSecond: 0 },
    });
    noReserve.fire(1000, 5);
    noReserve.sim.run();
    const a = noReserve.client.stats;
    expect(a.retries).toBeLessThanOrEqual(100);
    expect(a.retries).toBeGreaterThanOrEqual(97);
    expect(a.attempts).toBe(1000 + a.retries);
    // A call ends when the budget denies its next retry (or after its second retry).
    expect(a.budgetDenied).toBe(noReserve.responses.filter((r) => !r.ok && r.reason === 'budget').length);
    expect(a.budgetDenied + noReserve.responses.filter((r) => r.attempts === 3).length).toBe(1000);
    // Finagle's default reserve, 10 retries/s over a 10 s ttl, adds 100 more.
    const withReserve = setup(never, { timeout: 100, maxAttempts: 3, budget: { kind: 'ratio', ratio: 0.1 } });
    withReserve.fire(1000, 5);
    withReserve.sim.run();
    const b = withReserve.client.stats;
    expect(b.retries).toBeLessThanOrEqual(200);
    expect(b.retries).toBeGreaterThanOrEqual(197);
  });

  it('the ratio budget expires deposits after its ttl: a long outage retries at ratio × rate', () => {
    // 100 requests/s for 60 s; window 10 s; ratio 0.1, no reserve: about 10 retries/s at steady state.
    const { sim, client, fire } = setup(never, {
      timeout: 50,
      maxAttempts: 2,
      budget: new RatioRetryBudget({ ratio: 0.1, minPerSecond: 0, ttl: '10s' }),
    });
    fire(6000, 10);
    sim.run();
    const s = client.stats;
    expect(Math.abs(s.retries - 600)).toBeLessThanOrEqual(12);
  });

  it('the AWS SDK quota stops retrying after 500/10 = 50 timeout retries, 500/5 = 100 plain ones', () => {
    const timeouts = setup(never, { timeout: 100, maxAttempts: 3, budget: new RetryQuota() });
    timeouts.fire(200, 10);
    timeouts.sim.run();
    expect(timeouts.client.stats.retries).toBe(50);
    expect(timeouts.client.stats.attempts).toBe(250);
    expect((timeouts.client.budget as RetryQuota).available).toBe(0);

    const throttled = setup(failWith('overloaded'), { maxAttempts: 3, budget: new RetryQuota() });
    throttled.fire(200, 10);
    throttled.sim.run();
    expect(throttled.client.stats.retries).toBe(50); // overloaded is a throttle: 10 tokens

    const plain = setup(failWith('unavailable'), { maxAttempts: 3, budget: new RetryQuota() });
    plain.fire(200, 10);
    plain.sim.run();
    expect(plain.client.stats.retries).toBe(100);
    expect(plain.responses.filter((r) => !r.ok && r.reason === 'budget').length).toBe(200 - 50);
  });

  it('after the outage each first-try success refunds 1 token; a success after a retry refunds its cost', () => {
    let down = true;
    const quota = new RetryQuota();
    const { sim, client, fire } = setup((_req, reply) => (down ? undefined : reply.ok('fine')), {
      timeout: 100,
      maxAttempts: 3,
      budget: quota,
    });
    fire(100, 10);
    sim.run();
    expect(quota.available).toBe(0);
    down = false;
    fire(30, 10);
    sim.run();
    expect(quota.available).toBe(30);
    expect(client.stats.ok).toBe(30);
    // A retry (paid 10 after a timeout) that succeeds refunds 10, not 1.
    let first = true;
    const q2 = new RetryQuota({ capacity: 100 });
    const two = setup(
      (_req, reply) => {
        if (!first) reply.ok('ok');
        first = false;
      },
      { timeout: 100, maxAttempts: 2, budget: q2 },
    );
    two.fire(1, 0);
    two.sim.run();
    expect(two.responses[0]).toMatchObject({ ok: true, retries: 1 });
    expect(q2.available).toBe(100);
  });

  it("Envoy's budget: 5 stuck requests get min_retry_concurrency = 3 retries; 100 get 20% of active", () => {
    const five = setup(never, { timeout: 100, maxAttempts: 2, budget: new EnvoyRetryBudget() });
    five.fire(5, 0);
    five.sim.run();
    expect(five.client.stats.retries).toBe(3);
    expect(five.client.stats.budgetDenied).toBe(2);

    // 100 first attempts time out in the same instant and are handled one by one; the k-th sees
    // 100 - k originals plus r accepted retries in flight and allows one more if r + 1 <= max(3, 0.2 (100 - k + r)).
    const hundred = setup(never, { timeout: 100, maxAttempts: 2, budget: new EnvoyRetryBudget() });
    hundred.fire(100, 0);
    hundred.sim.run();
    let r = 0;
    for (let k = 1; k <= 100; k++) if (r + 1 <= Math.max(3, 0.2 * (100 - k + r))) r++;
    expect(hundred.client.stats.retries).toBe(r);
    expect(r).toBeGreaterThan(15);
    expect(r).toBeLessThanOrEqual(20);
  });

  it('adaptive throttling with no accepts sends about H(N) = sum 1/(n+1) of N requests', () => {
    // p_n = n / (n + 1) after n requests and no accepts: E[sent] = H_1000 = 7.485.
    let sum = 0;
    const seeds = 20;
    for (let seed = 1; seed <= seeds; seed++) {
      const { sim, client, app, responses, fire } = setup(
        failWith('overloaded'),
        { budget: new AdaptiveThrottle() },
        seed,
      );
      fire(1000, 10);
      sim.run();
      const s = client.stats;
      expect(s.attempts).toBe(app.stats.sent);
      expect(s.unsent).toBe(1000 - s.attempts);
      expect(s.budgetDenied).toBe(s.unsent);
      const local = responses.filter((r) => !r.ok && r.reason === 'throttled');
      expect(local.length).toBe(s.unsent);
      expect(local.every((r) => !r.ok && r.error.kind === 'rejected' && r.attempts === 0)).toBe(true);
      sum += s.attempts;
    }
    let h = 0;
    for (let n = 1; n <= 1000; n++) h += 1 / n;
    // Var = sum p(1-p) = H - sum 1/n^2 = 5.84: the mean of 20 runs has sd 0.54.
    expect(Math.abs(sum / seeds - h)).toBeLessThan(4 * Math.sqrt(5.84 / seeds));
  });

  it('adaptive throttling at steady state: the backend sees K = 2 times what it accepts', () => {
    const sim = new Simulation({ seed: 3 });
    const net = new Network(sim);
    // One worker, no queue, 10 ms per request: accepts a/(1+a) of the offered load a.
    new Service(net.addNode('server'), { serviceTime: 10, queueCapacity: 0 });
    const client = new RetryingClient(new RpcEndpoint(net.addNode('app')), {
      budget: new AdaptiveThrottle(),
    });
    let ok = 0;
    const gaps = exponential({ rate: 0.4 }); // 400/s offered, far above what the backend accepts
    const rng = sim.rng('arrivals');
    sim.process(function* () {
      while (sim.now < 60_000) {
        client.call('server', null).onProcessed((e) => {
          if (e.value!.ok) ok++;
        });
        yield sim.timeout(gaps.sample(rng));
      }
    });
    sim.run();
    const sent = client.stats.attempts;
    expect(Math.abs(sent / ok - 2)).toBeLessThan(0.1);
    // Fixed point: sent S = 2A and A = S/(1 + S·0.01 s) give S = 100/s, A = 50/s.
    expect(Math.abs(sent / 60 - 100)).toBeLessThan(10);
  });
});

describe('gateway timeouts across layers', () => {
  /**
   * client -> frontend -> backend, the backend stuck (it never answers in time). The client and the
   * frontend's own client each make up to 4 attempts (3 retries), 50 ms per attempt at the frontend and
   * 1 s at the client, so the frontend gives up after 200 ms and answers `gateway-timeout`.
   */
  function layers(clientRetryOn?: RetryingClientOptions['retryOn'], requests = 3) {
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim);
    new Service(net.addNode('backend'), { serviceTime: '1h', concurrency: 1000 });
    new Service(net.addNode('frontend'), {
      serviceTime: 1,
      concurrency: 100,
      downstream: {
        calls: ['backend'],
        client: (endpoint) =>
          new RetryingClient(endpoint, { name: 'frontend-client', maxAttempts: 4, timeout: 50 }),
      },
    });
    const client = new RetryingClient(new RpcEndpoint(net.addNode('client')), {
      maxAttempts: 4,
      timeout: 1000,
      ...(clientRetryOn === undefined ? {} : { retryOn: clientRetryOn }),
    });
    const responses: ClientResponse[] = [];
    for (let i = 0; i < requests; i++)
      sim.schedule(i * 5000, () => client.call('frontend', i).onProcessed((e) => responses.push(e.value!)));
    sim.run({ until: 60_000 });
    const arrived = (address: string) => sim.metrics.counter(address, 'svc.arrived').value;
    return { client, responses, backend: arrived('backend'), frontend: arrived('frontend') };
  }

  it('retrying 504s at every layer multiplies: 4 x 4 = 16 backend attempts per client request', () => {
    const { client, responses, backend, frontend } = layers();
    expect(frontend).toBe(3 * 4);
    expect(backend).toBe(3 * 16);
    expect(client.stats).toMatchObject({ requests: 3, attempts: 12, retries: 9, failed: 3 });
    expect(client.stats.failedBy['gateway-timeout']).toBe(3);
    for (const r of responses) {
      expect(r).toMatchObject({ ok: false, reason: 'exhausted', attempts: 4 });
      expect(!r.ok && r.error.kind).toBe('gateway-timeout');
      // Four frontend answers of 4 x 50 ms each.
      expect(r.latency).toBe(800);
    }
  });

  it("a downstream call's timeout bounds the frontend client's retries; propagateDeadline: false stops the deadline", () => {
    const run = (propagate: boolean, callerTimeout = 80) => {
      const sim = new Simulation({ seed: 1 });
      const net = new Network(sim);
      const seen: number[] = [];
      new RpcEndpoint(net.addNode('backend')).serve((req) => seen.push(req.deadline)); // never answers
      new Service(net.addNode('frontend'), {
        serviceTime: 1,
        downstream: {
          calls: ['backend'],
          timeout: 120, // the frontend waits 120 ms for its dependency, retries included
          propagateDeadline: propagate,
          client: (endpoint) => new RetryingClient(endpoint, { maxAttempts: 10, timeout: 50 }),
        },
      });
      const caller = new RpcEndpoint(net.addNode('client'));
      const responses: RpcResponse[] = [];
      caller.call('frontend', 'x', { timeout: callerTimeout }).onProcessed((e) => responses.push(e.value!));
      sim.run({ until: 5000 });
      return { seen, response: responses[0]! };
    };
    // The caller's 80 ms deadline propagates: attempts at 0 and 50 ms, the second cut at 80.
    const propagated = run(true);
    expect(propagated.seen).toEqual([50, 80]);
    expect(propagated.response).toMatchObject({ ok: false, latency: 80 });
    // Without propagation the frontend works on after its caller gave up, until its own 120 ms limit:
    // attempts at 0, 50 and 100 ms, the third cut at 120 by the downstream call's timeout.
    const cut = run(false);
    expect(cut.seen).toEqual([50, 100, 120]);
    // A patient caller gets the frontend's 504 when the downstream call's 120 ms are up.
    const patient = run(true, 1000);
    expect(patient.seen).toEqual([50, 100, 120]);
    expect(patient.response.latency).toBe(120); // a failed dependency skips the frontend's own work
    expect(!patient.response.ok && patient.response.error.kind).toBe('gateway-timeout');
  });

  it('RetryingClient.call rejects an unknown per-call option', () => {
    const sim = new Simulation({ seed: 1 });
    const client = new RetryingClient(new RpcEndpoint(new Network(sim).addNode('c')), {});
    expect(() => client.call('x', 1, { timout: 5 } as never)).toThrow(
      /RetryingClient.call: unknown option "timout" \(did you mean "timeout"\?\)/,
    );
  });

  it('a client that does not retry gateway-timeout keeps the backend at 4 attempts per request', () => {
    const { client, backend, frontend } = layers(['timeout', 'unavailable', 'overloaded']);
    expect(frontend).toBe(3);
    expect(backend).toBe(3 * 4);
    expect(client.stats).toMatchObject({ requests: 3, attempts: 3, retries: 0, failed: 3 });
    expect(client.stats.failedBy['gateway-timeout']).toBe(3);
  });
});

describe('backoff timing and retryOn', () => {
  it('with jitter none, attempts go out at the createBackoff delays: 0, 20, 60, 140 ms', () => {
    const records: TraceRecord[] = [];
    const seen: string[] = [];
    const { sim, received, responses, fire } = setup(failWith('unavailable'), {
      maxAttempts: 4,
      backoff: { kind: 'exponential', baseMs: 10, capMs: 1000, jitter: 'none' },
      onAttempt: (n, _to, kind) => seen.push(`${n} ${kind}`),
    });
    sim.inspect((r) => {
      if (r.type.startsWith('@dsim.client.')) records.push(r);
    });
    fire(1, 0);
    sim.run();
    expect(received.map((r) => r.sentAt)).toEqual([0, 20, 60, 140]);
    expect(received.map((r) => r.attempt)).toEqual([1, 2, 3, 4]);
    expect(received.map((r) => r.origin)).toEqual([0, 0, 0, 0]); // retries keep the call's origin
    expect(seen).toEqual(['1 first', '2 retry', '3 retry', '4 retry']);
    expect(responses[0]).toMatchObject({
      ok: false,
      attempts: 4,
      retries: 3,
      latency: 140,
      reason: 'exhausted',
    });
    expect(records.map((r) => [r.type, r.delay ?? r.reason])).toEqual([
      ['@dsim.client.retry', 20],
      ['@dsim.client.retry', 40],
      ['@dsim.client.retry', 80],
      ['@dsim.client.give-up', 'exhausted'],
    ]);
    expect(records[0]).toMatchObject({ client: 'app', id: 1, attempt: 2, error: 'unavailable' });
  });

  it('a built Backoff with jitter draws from the client stream and follows its schedule', () => {
    const backoff = createBackoff({ kind: 'envoy' });
    const { sim, received, fire } = setup(failWith('overloaded'), { maxAttempts: 4, backoff, name: 'c1' });
    fire(1, 0);
    sim.run();
    const rng = new Simulation({ seed: 1 }).rng('c1/retry');
    const expected = [0];
    for (let n = 1; n <= 3; n++) expected.push(expected[n - 1]! + backoff.delay(n, rng));
    expect(received.map((r) => r.sentAt)).toEqual(expected);
  });

  it('a non-retryable error ends the call after one attempt; retryOn can add it', () => {
    const strict = setup(failWith('error'), { maxAttempts: 5 });
    strict.fire(10, 1);
    strict.sim.run();
    expect(strict.client.stats).toMatchObject({ attempts: 10, retries: 0, failed: 10 });
    expect(strict.responses.every((r) => !r.ok && r.reason === 'not-retryable')).toBe(true);
    const rejected = setup(failWith('rejected'), { maxAttempts: 5 });
    rejected.fire(10, 1);
    rejected.sim.run();
    expect(rejected.client.stats.attempts).toBe(10);
    const lenient = setup(failWith('error'), { maxAttempts: 5, retryOn: ['error'] });
    lenient.fire(10, 1);
    lenient.sim.run();
    expect(lenient.client.stats).toMatchObject({ attempts: 50, retries: 40, failed: 10 });
    expect(lenient.client.stats.failedBy.error).toBe(10);
  });

  it('a retry that succeeds returns the value with the attempt count and total latency', () => {
    let calls = 0;
    const { sim, responses, fire } = setup(
      (_req, reply) => (++calls < 3 ? reply.error('unavailable') : reply.ok('third time')),
      { maxAttempts: 5, backoff: { kind: 'fixed', delayMs: 7 } },
    );
    fire(1, 0);
    sim.run();
    expect(responses[0]).toMatchObject({
      ok: true,
      value: 'third time',
      attempts: 3,
      retries: 2,
      latency: 14,
    });
    expect(responses[0]!.request?.attempt).toBe(3);
  });
});

describe('hedging against theory', () => {
  /** Latency 10 ms w.p. 0.9, 1000 ms w.p. 0.1, independently per attempt. */
  function bimodal(hedge: RetryingClientOptions['hedge'], requests: number, threshold = 100, seed = 7) {
    const sim = new Simulation({ seed });
    const net = new Network(sim);
    const node = net.addNode('server');
    const rng = sim.rng('server/latency');
    const server = new RpcEndpoint(node).serve((req, reply) =>
      node.setTimer(rng.next() < 0.1 ? 1000 : 10, () => reply.ok(req.payload)),
    );
    const client = new RetryingClient(
      new RpcEndpoint(net.addNode('app')),
      hedge === undefined ? {} : { hedge },
    );
    const latencies: number[] = [];
    for (let i = 0; i < requests; i++)
      sim.schedule(i * 5, () =>
        client.call('server', i).onProcessed((e) => latencies.push(e.value!.latency)),
      );
    sim.run();
    const slow = latencies.filter((l) => l > threshold).length / requests;
    const mean = latencies.reduce((a, b) => a + b, 0) / requests;
    return { client, server, slow, mean, latencies };
  }

  const N = 20_000;
  const se = (p: number): number => Math.sqrt((p * (1 - p)) / N);

  it('without hedging 10% of requests are slower than 100 ms', () => {
    const { slow } = bimodal(undefined, N);
    expect(Math.abs(slow - 0.1)).toBeLessThan(4 * se(0.1));
  });

  it('one hedge after 50 ms: slow share 0.1^2 = 0.01, about 10% extra load, mean 24.4 ms', () => {
    const { client, server, slow, mean } = bimodal({ after: 50 }, N);
    expect(Math.abs(slow - 0.01)).toBeLessThan(4 * se(0.01));
    const s = client.stats;
    expect(Math.abs(s.hedges / N - 0.1)).toBeLessThan(4 * se(0.1));
    expect(s.attempts).toBe(N + s.hedges);
    expect(s.retries).toBe(0);
    // Mean = 0.9·10 + 0.09·(50 + 10) + 0.01·1000 = 24.4 ms; sd of one latency 99 ms.
    expect(Math.abs(mean - 24.4)).toBeLessThan(4 * (99 / Math.sqrt(N)));
    // Losing hedges still reach and load the server: the endpoint counts their answers.
    expect(server.node.network.sim.metrics.counter('server', 'rpc.served').value).toBe(s.attempts);
  });

  it('two hedges 50 ms apart: share slower than 200 ms 0.1^3 = 0.001', () => {
    // The second hedge leaves at 100 ms, so a fast answer to it arrives at 110 ms.
    const { client, slow } = bimodal({ after: 50, maxHedges: 2 }, N, 200);
    expect(Math.abs(slow - 0.001)).toBeLessThan(4 * se(0.001));
    expect(client.maxAttempts).toBe(3);
    // Second hedge only when both earlier attempts are slow: 0.1 + 0.01 hedges per request.
    expect(Math.abs(client.stats.hedges / N - 0.11)).toBeLessThan(4 * se(0.11));
  });

  it('the first success wins; the loser answers later and is ignored by the client', () => {
    let n = 0;
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim);
    const node = net.addNode('server');
    new RpcEndpoint(node).serve((req, reply) => {
      const delay = n++ === 0 ? 1000 : 10;
      node.setTimer(delay, () => reply.ok(`attempt ${req.attempt}`));
    });
    const app = new RpcEndpoint(net.addNode('app'));
    const client = new RetryingClient(app, { hedge: { after: 50 } });
    const seen: ClientResponse[] = [];
    client.call('server', 'x').onProcessed((e) => seen.push(e.value!));
    sim.run({ until: 100 });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ ok: true, value: 'attempt 2', hedges: 1, attempts: 2, latency: 60 });
    sim.run();
    expect(seen).toHaveLength(1);
    expect(client.stats).toMatchObject({ requests: 1, ok: 1, attempts: 2, hedges: 1, inFlight: 0 });
    expect(app.stats.ok).toBe(2); // the endpoint saw both answers
  });

  it('a hedge can go to another replica; a non-retryable failure ends a hedged call at once', () => {
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim);
    const a = net.addNode('a');
    const b = net.addNode('b');
    new RpcEndpoint(a).serve((_req, reply) => a.setTimer(500, () => reply.ok('from a')));
    new RpcEndpoint(b).serve((_req, reply) => b.setTimer(10, () => reply.error('error', 'boom')));
    const client = new RetryingClient(new RpcEndpoint(net.addNode('app')), {
      hedge: { after: 20 },
      target: (attempt, to) => (attempt === 1 ? to : 'b'),
    });
    const seen: ClientResponse[] = [];
    client.call('a', 'x').onProcessed((e) => seen.push(e.value!));
    sim.run();
    expect(seen[0]).toMatchObject({ ok: false, reason: 'not-retryable', latency: 30, hedges: 1 });
    expect(seen[0]!.request?.to).toBe('b');
  });

  it('a budget also pays for hedges: a ratio budget with no reserve and ratio 0.05 caps them', () => {
    const sim = new Simulation({ seed: 2 });
    const net = new Network(sim);
    const node = net.addNode('server');
    new RpcEndpoint(node).serve((_req, reply) => node.setTimer(100, () => reply.ok(1)));
    const client = new RetryingClient(new RpcEndpoint(net.addNode('app')), {
      hedge: { after: 50 },
      budget: { kind: 'ratio', ratio: 0.05, minPerSecond: 0 },
    });
    for (let i = 0; i < 1000; i++) sim.schedule(i * 5, () => client.call('server', i));
    sim.run();
    const s = client.stats;
    expect(s.hedges).toBeLessThanOrEqual(50);
    expect(s.hedges).toBeGreaterThanOrEqual(45);
    expect(s.budgetDenied).toBe(1000 - s.hedges);
  });
});

describe('circuit breaker, fallback and deadlines', () => {
  const breakerConfig = {
    name: 'server',
    slidingWindowSize: 10,
    minimumNumberOfCalls: 10,
    waitDurationInOpenStateMs: 1000,
    permittedNumberOfCallsInHalfOpenState: 2,
  };

  it('opens after failures; calls then fail fast without reaching the server', () => {
    let breaker: CircuitBreaker | undefined;
    const { sim, client, received, responses, fire } = setup(failWith('unavailable'), (sim) => ({
      breaker: (breaker = new CircuitBreaker(sim, breakerConfig)),
    }));
    fire(30, 10);
    sim.run();
    expect(received.length).toBe(10);
    expect(breaker!.state).toBe('OPEN');
    const s = client.stats;
    expect(s).toMatchObject({ requests: 30, failed: 30, attempts: 10, breakerRejected: 20, unsent: 20 });
    const fast = responses.slice(10);
    expect(fast.every((r) => !r.ok && r.error.kind === 'rejected' && r.reason === 'breaker')).toBe(true);
    expect(fast.every((r) => r.latency === 0 && r.attempts === 0 && r.request === undefined)).toBe(true);
    expect(s.failedBy).toMatchObject({ unavailable: 10, rejected: 20 });
    // After the open wait (strictly more than 1000 ms) half-open trials reach the server again.
    sim.schedule(1500, () => client.call('server', 'trial'));
    sim.run();
    expect(received.length).toBe(11);
    expect(breaker!.totals.successfulCalls + breaker!.totals.failedCalls).toBe(11);
  });

  it('breakerIgnores: ignored error kinds never open the breaker (resilience4j ignoreExceptions)', () => {
    let breaker: CircuitBreaker | undefined;
    const { sim, client, received, fire } = setup(failWith('rejected'), (sim) => ({
      breaker: (breaker = new CircuitBreaker(sim, breakerConfig)),
      breakerIgnores: ['rejected'],
    }));
    fire(30, 10);
    sim.run();
    expect(received.length).toBe(30);
    expect(breaker!.state).toBe('CLOSED');
    expect(breaker!.totals.failedCalls + breaker!.totals.successfulCalls).toBe(0);
    expect(client.stats.breakerRejected).toBe(0);
    expect(() =>
      setup(never, (sim) => ({ breaker: new CircuitBreaker(sim), breakerIgnores: ['nope' as 'error'] })),
    ).toThrow(/breakerIgnores\[0\] must be one of/);
    expect(() => setup(never, { breakerIgnores: ['rejected'] })).toThrow(
      /breakerIgnores must be left out unless breaker is set/,
    );
  });

  it('a breaker that opens between retries stops the retry with rejected', () => {
    const { sim, client, received, responses, fire } = setup(failWith('unavailable'), (sim) => ({
      maxAttempts: 3,
      breaker: new CircuitBreaker(sim, breakerConfig),
    }));
    fire(5, 10);
    sim.run();
    // Calls 1-3 make 3 attempts each (9 failures); call 4's first attempt is the 10th failure, which
    // opens the breaker, so its retry is refused; call 5 is refused before sending anything.
    expect(received).toHaveLength(10);
    expect(responses.map((r) => [r.attempts, !r.ok && r.error.kind, !r.ok && r.reason])).toEqual([
      [3, 'unavailable', 'exhausted'],
      [3, 'unavailable', 'exhausted'],
      [3, 'unavailable', 'exhausted'],
      [1, 'rejected', 'breaker'],
      [0, 'rejected', 'breaker'],
    ]);
    expect(client.stats).toMatchObject({ attempts: 10, retries: 6, breakerRejected: 2, unsent: 1 });
  });

  it('fallback values replace failures and count as ok and as fallbacks', () => {
    const { sim, client, responses } = setup(failWith('unavailable'), {
      maxAttempts: 2,
      fallback: (failure) => `cached (${failure.error.kind} after ${failure.attempts})`,
    });
    for (let i = 0; i < 5; i++)
      sim.schedule(i, () => client.call('server', i).onProcessed((e) => responses.push(e.value!)));
    sim.run();
    expect(responses).toHaveLength(5);
    for (const r of responses) {
      expect(r).toMatchObject({
        ok: true,
        fallback: true,
        value: 'cached (unavailable after 2)',
        reason: 'exhausted',
      });
      if (r.ok && r.fallback) expect(r.error.kind).toBe('unavailable');
    }
    expect(client.stats).toMatchObject({ requests: 5, ok: 5, failed: 0, fallbacks: 5, attempts: 10 });
  });

  it('totalTimeout cuts retries short: attempts at 0, 120, 240 ms, the last one cut to 10 ms', () => {
    const { sim, received, responses, fire } = setup(never, {
      timeout: 100,
      totalTimeout: 250,
      maxAttempts: 5,
      backoff: { kind: 'fixed', delayMs: 20 },
    });
    fire(1, 0);
    sim.run();
    expect(received.map((r) => [r.sentAt, r.deadline])).toEqual([
      [0, 100],
      [120, 220],
      [240, 250],
    ]);
    expect(responses[0]).toMatchObject({ ok: false, reason: 'deadline', latency: 250, attempts: 3 });
    expect(!responses[0]!.ok && responses[0]!.error.kind).toBe('timeout');
  });

  it("a retry whose backoff would pass the deadline is not made; the parent's deadline propagates", () => {
    const { sim, client, received, responses } = setup(failWith('overloaded'), {
      maxAttempts: 5,
      backoff: { kind: 'fixed', delayMs: 60 },
    });
    const parent = parentRequest(100, 'k9');
    client.call('server', 'x', { parent }).onProcessed((e) => responses.push(e.value!));
    sim.run();
    expect(received.map((r) => [r.sentAt, r.deadline, r.key, r.origin])).toEqual([
      [0, 100, 'k9', 0],
      [60, 100, 'k9', 0],
    ]);
    expect(responses[0]).toMatchObject({ ok: false, reason: 'deadline', attempts: 2, latency: 60 });
    expect(!responses[0]!.ok && responses[0]!.error.kind).toBe('overloaded');
  });

  it('a call whose deadline has already passed fails with timeout without sending', () => {
    const { sim, client, received, responses } = setup(never, {});
    sim.schedule(50, () =>
      client.call('server', 'x', { parent: parentRequest(40) }).onProcessed((e) => responses.push(e.value!)),
    );
    sim.run();
    expect(received).toHaveLength(0);
    expect(responses[0]).toMatchObject({ ok: false, reason: 'deadline', attempts: 0 });
  });

  it('a crash of the client node during backoff ends the call with unavailable', () => {
    const { sim, net, client, responses, fire } = setup(failWith('unavailable'), {
      maxAttempts: 3,
      backoff: { kind: 'fixed', delayMs: 100 },
    });
    fire(3, 0);
    sim.schedule(50, () => net.crash('app'));
    sim.run();
    expect(responses).toHaveLength(3);
    expect(responses.every((r) => !r.ok && r.error.kind === 'unavailable' && r.reason === 'crashed')).toBe(
      true,
    );
    expect(client.stats).toMatchObject({ requests: 3, failed: 3, inFlight: 0, attempts: 3 });
    // While the node is down new calls fail at once.
    client.call('server', 'late').onProcessed((e) => responses.push(e.value!));
    sim.run();
    expect(responses[3]).toMatchObject({ ok: false, reason: 'crashed', attempts: 0 });
  });
});

describe('invariants across seeds', () => {
  const ERROR_REPLIES = ['rejected', 'unavailable', 'overloaded', 'deadline-exceeded', 'error'] as const;

  function chaos(seed: number) {
    const sim = new Simulation({ seed });
    const net = new Network(sim, { defaults: { latency: exponential({ mean: 1 }), loss: 0.02 } });
    const mixRng = sim.rng('test/mix');
    const pNever = 0.05 + 0.15 * mixRng.next();
    const pOk = 0.2 + 0.6 * mixRng.next();
    for (const address of ['s1', 's2']) {
      const node = net.addNode(address);
      const rng = sim.rng(`${address}/behaviour`);
      const latency = exponential({ mean: 15 });
      new RpcEndpoint(node).serve((_req, reply) => {
        const u = rng.next();
        if (u < pNever) return;
        const delay = latency.sample(rng);
        if (u < pNever + pOk) node.setTimer(delay, () => reply.ok(address));
        else {
          const kind = ERROR_REPLIES[Math.floor(rng.next() * ERROR_REPLIES.length)]!;
          node.setTimer(delay, () => reply.error(kind));
        }
      });
    }
    const app = new RpcEndpoint(net.addNode('app'));
    const budgets = [
      undefined,
      new RetryQuota({ capacity: 50 }),
      new EnvoyRetryBudget({ budgetPercent: 10, minRetryConcurrency: 1 }),
      { kind: 'ratio', ratio: 0.2, minPerSecond: 1 } as const,
      new AdaptiveThrottle(),
    ];
    const budget = budgets[seed % budgets.length];
    const totalTimeout = seed % 2 === 1 ? 200 : undefined;
    const options: RetryingClientOptions<string> = {
      timeout: 40,
      maxAttempts: 4,
      backoff: { kind: 'exponential', baseMs: 5, capMs: 100, jitter: 'full' },
      target: (attempt, to) => (attempt % 2 === 1 ? to : to === 's1' ? 's2' : 's1'),
      ...(totalTimeout === undefined ? {} : { totalTimeout }),
      ...(budget === undefined ? {} : { budget }),
      ...(seed % 2 === 0 ? { hedge: { after: 25, maxHedges: 2 } } : {}),
      ...(seed % 3 === 0
        ? {
            breaker: new CircuitBreaker(sim, {
              slidingWindowSize: 20,
              minimumNumberOfCalls: 10,
              waitDurationInOpenStateMs: 200,
            }),
          }
        : {}),
      ...(seed % 4 === 0 ? { fallback: () => 'fallback' } : {}),
      ...(seed % 7 === 0
        ? { retryOn: ['timeout', 'unavailable', 'overloaded', 'error', 'rejected'] as const }
        : {}),
    };
    const client = new RetryingClient<string>(app, options);
    const N = 400;
    const resolved = new Array<number>(N).fill(0);
    const responses: ClientResponse<string>[] = [];
    const violations: string[] = [];
    const check = (): void => {
      const s = client.stats;
      if (s.requests !== s.ok + s.failed + s.inFlight) violations.push(`t=${sim.now} requests`);
      if (s.attempts !== s.requests - s.unsent + s.retries + s.hedges)
        violations.push(`t=${sim.now} attempts`);
    };
    const gaps = exponential({ mean: 3 });
    const arrivals = sim.rng('test/arrivals');
    sim.process(function* () {
      for (let i = 0; i < N; i++) {
        client.call(i % 3 === 0 ? 's2' : 's1', i).onProcessed((e) => {
          resolved[i]!++;
          responses.push(e.value!);
          check();
        });
        check();
        yield sim.timeout(gaps.sample(arrivals));
      }
    });
    if (seed % 5 === 1) {
      sim.schedule(300, () => net.crash('app'));
      sim.schedule(400, () => net.restart('app'));
    }
    if (seed % 5 === 2) {
      sim.schedule(200, () => net.pause('s1'));
      sim.schedule(600, () => net.resume('s1'));
    }
    sim.run();
    return { sim, client, app, resolved, responses, violations, totalTimeout, options };
  }

  it('20 seeds, random error mixes: every call resolves once and the counts add up', () => {
    let hedged = 0;
    let retried = 0;
    let fallbacks = 0;
    let unsent = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const { sim, client, app, resolved, responses, violations, totalTimeout, options } = chaos(seed);
      const s = client.stats;
      expect(violations, `seed ${seed}`).toEqual([]);
      expect(
        resolved.every((n) => n === 1),
        `seed ${seed}`,
      ).toBe(true);
      expect(s).toMatchObject({ requests: 400, inFlight: 0 });
      expect(s.ok + s.failed).toBe(400);
      expect(s.attempts).toBe(s.requests - s.unsent + s.retries + s.hedges);
      expect(app.stats.sent).toBe(s.attempts);
      const sum = (f: (r: ClientResponse<string>) => number): number =>
        responses.reduce((a, r) => a + f(r), 0);
      expect(sum((r) => r.attempts)).toBe(s.attempts);
      expect(sum((r) => r.retries)).toBe(s.retries);
      expect(sum((r) => r.hedges)).toBe(s.hedges);
      expect(responses.filter((r) => r.attempts === 0).length).toBe(s.unsent);
      expect(responses.filter((r) => r.ok && r.fallback).length).toBe(s.fallbacks);
      expect(Object.values(s.failedBy).reduce((a, b) => a + b, 0)).toBe(s.failed);
      if (options.fallback !== undefined) expect(s.failed).toBe(0);
      if (options.hedge === undefined) expect(s.hedges).toBe(0);
      for (const r of responses) {
        expect(r.attempts).toBeLessThanOrEqual(4);
        if (totalTimeout !== undefined) expect(r.latency).toBeLessThanOrEqual(totalTimeout);
      }
      // Nothing leaks: no attempt, pending retry or retry slot is left held.
      const internals = client as unknown as Record<string, number>;
      expect([internals.inFlightAttempts, internals.pendingRetries, internals.activeRetries]).toEqual([
        0, 0, 0,
      ]);
      // The metrics agree with the stats.
      const m = sim.metrics;
      expect(m.counter('app', 'client.requests').value).toBe(s.requests);
      expect(m.counter('app', 'client.ok').value).toBe(s.ok);
      expect(m.counter('app', 'client.failed').value).toBe(s.failed);
      expect(m.counter('app', 'client.attempts').value).toBe(s.attempts);
      expect(m.counter('app', 'client.retries').value).toBe(s.retries);
      expect(m.counter('app', 'client.hedges').value).toBe(s.hedges);
      expect(m.counter('app', 'client.budget-denied').value).toBe(s.budgetDenied);
      expect(m.counter('app', 'client.breaker-rejected').value).toBe(s.breakerRejected);
      expect(m.counter('app', 'client.fallbacks').value).toBe(s.fallbacks);
      expect(m.histogram('app', 'client.latency').count).toBe(400);
      hedged += s.hedges;
      retried += s.retries;
      fallbacks += s.fallbacks;
      unsent += s.unsent;
    }
    // The mixes exercised every path.
    expect(Math.min(hedged, retried, fallbacks, unsent)).toBeGreaterThan(0);
  });

  it('the same seed gives the same run', () => {
    const a = chaos(6);
    const b = chaos(6);
    expect(a.sim.digest()).toBe(b.sim.digest());
    expect(a.client.stats).toEqual(b.client.stats);
  });
});

describe('tracing and validation', () => {
  it('emits hedge and give-up records with the fields documented', () => {
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim);
    new RpcEndpoint(net.addNode('server')).serve(() => {});
    const client = new RetryingClient(new RpcEndpoint(net.addNode('app')), {
      name: 'checkout',
      timeout: 100,
      hedge: { after: 30 },
      fallback: () => 'default',
    });
    const records: TraceRecord[] = [];
    sim.inspect((r) => {
      if (r.type.startsWith('@dsim.client.')) records.push(r);
    });
    client.call('server', 1);
    sim.run();
    expect(records.map(({ t, type, ...rest }) => ({ t, type, ...rest, seq: 0 }))).toEqual([
      { t: 30, type: '@dsim.client.hedge', seq: 0, client: 'checkout', id: 1, attempt: 2 },
      {
        t: 130,
        type: '@dsim.client.give-up',
        seq: 0,
        client: 'checkout',
        id: 1,
        reason: 'exhausted',
        error: 'timeout',
        attempts: 2,
        fallback: true,
      },
    ]);
    expect(sim.metrics.counter('checkout', 'client.fallbacks').value).toBe(1);
  });

  it('rejects bad options and arguments, naming the field', () => {
    const sim = new Simulation();
    const net = new Network(sim);
    const app = new RpcEndpoint(net.addNode('app'));
    const bad: Array<[unknown, RegExp]> = [
      [{ maxRetries: 3 }, /RetryingClient: unknown option "maxRetries"/],
      [{ maxAttemps: 3 }, /unknown option "maxAttemps" \(did you mean "maxAttempts"\?\)/],
      [{ maxAttempts: 0 }, /maxAttempts/],
      [{ maxAttempts: 1.5 }, /maxAttempts/],
      [{ maxAttempts: 1, hedge: { after: 10 } }, /maxAttempts must be an integer >= 2 with hedge/],
      [{ hedge: { after: 0 } }, /hedge\.after/],
      [{ hedge: { after: 10, maxHedges: 0 } }, /hedge\.maxHedges/],
      [{ timeout: -1 }, /timeout/],
      [{ totalTimeout: '5 minutes' }, /totalTimeout/],
      [{ retryOn: ['timeout', 'nope'] }, /retryOn/],
      [{ retryOn: 'timeout' }, /retryOn/],
      [{ backoff: { kind: 'linear' } }, /backoff\.kind/],
      [{ budget: { kind: 'tokens' } }, /budget/],
      [{ budget: { kind: 'ratio', ratio: -1 } }, /budget\.ratio/],
      [{ budget: { kind: 'ratio', ratio: 0.1, ttl: '2m' } }, /budget\.ttl/],
      [{ breaker: {} }, /breaker/],
      [{ fallback: 'x' }, /fallback/],
      [{ target: 'b' }, /target/],
      [{ name: '' }, /name/],
    ];
    for (const [options, field] of bad) {
      const make = (): unknown => new RetryingClient(app, options as RetryingClientOptions);
      expect(make, JSON.stringify(options)).toThrow(DsimError);
      expect(make, JSON.stringify(options)).toThrow(field);
    }
    const client = new RetryingClient(app, { target: () => '' as string, maxAttempts: 2 });
    expect(() => client.call('', 1)).toThrow(/to must be a node address/);
    expect(() => client.call('x', 1, { size: -1 })).toThrow(/size must be/);
    expect(() => client.call('x', 1, { key: 3 as unknown as string })).toThrow(/key must be a string/);
    expect(new RetryingClient(app, { hedge: { after: 5, maxHedges: 3 } }).maxAttempts).toBe(4);
    expect(new RetryingClient(app).maxAttempts).toBe(1);
    expect([...new RetryingClient(app).retryOn]).toEqual([
      'timeout',
      'unavailable',
      'overloaded',
      'gateway-timeout',
    ]);
  });
});
