/**
 * `topology-ceiling`: the 20-node topology of bench/topology.ts written as one bare event loop over
 * fastpriorityqueue, the way `heap-ceiling` is `timeouts` without the engine: the same model (Poisson
 * arrivals, 0.2 ms links, 4 api services of 32 workers each calling 2 distinct backends of 15 in
 * parallel, FIFO queues, exponential service times, the same random streams' generator) with no
 * network, no RPC, no components, no metrics and no digest. Events are slots in typed arrays; requests
 * are indices into typed arrays. It is what a hand-written simulator of exactly this model costs on the
 * machine, the floor under dsim's figure.
 */
import { exponential, Simulation } from '@dsim/core';
import FastPriorityQueue from 'fastpriorityqueue';
import { TOPOLOGY } from './topology.js';

const ARRIVAL = 0;
const AT_API = 1;
const AT_BACKEND = 2;
const BACKEND_DONE = 3;
const BACK_AT_API = 4;
const API_DONE = 5;
const BACK_AT_CLIENT = 6;

/** What one run measured. */
export interface TopologyCeilingRun {
  requests: number;
  meanLatency: number;
  events: number;
}

/** Builds the bare loop and returns a function that runs it for `seconds` of simulated time. */
export function buildTopologyCeiling(seconds: number, seed = 1): () => TopologyCeilingRun {
  const sim = new Simulation({ seed });
  const until = seconds * 1000;
  const link = TOPOLOGY.linkMs;
  const arrivals = exponential({ mean: 1000 / TOPOLOGY.rate });
  const apiTime = exponential({ mean: TOPOLOGY.apiServiceMs });
  const backendTime = exponential({ mean: TOPOLOGY.backendServiceMs });
  const arrivalRng = sim.rng('client/arrivals');
  const routeRng = sim.rng('client/route');
  const fanoutRng = sim.rng('fanout');
  const apiRng = sim.rng('api/service');
  const backendRng = sim.rng('backend/service');

  // Events: struct-of-arrays slots with a free list, ordered by (time, seq).
  let cap = 1 << 12;
  let time = new Float64Array(cap);
  let seq = new Float64Array(cap);
  let kind = new Uint8Array(cap);
  let subject = new Int32Array(cap);
  const freeSlots: number[] = [];
  let nextSlot = 0;
  let counter = 0;
  const heap = new FastPriorityQueue<number>(
    (a, b) => time[a]! < time[b]! || (time[a] === time[b] && seq[a]! < seq[b]!),
  );
  let held = false;

  // Requests: start time, api, answers still awaited; indices reused.
  let reqCap = 1 << 12;
  let started = new Float64Array(reqCap);
  let apiOf = new Int32Array(reqCap);
  let left = new Int32Array(reqCap);
  const freeReqs: number[] = [];
  let nextReq = 0;

  // Backend calls carry (request, backend) packed: request * backends + backend.
  const backends = TOPOLOGY.backends;
  const apiBusy = new Int32Array(TOPOLOGY.apis);
  const backendBusy = new Int32Array(backends);
  const apiQueue = Array.from({ length: TOPOLOGY.apis }, () => [] as number[]);
  const apiHead = new Int32Array(TOPOLOGY.apis);
  const backendQueue = Array.from({ length: backends }, () => [] as number[]);
  const backendHead = new Int32Array(backends);

  function grow(): void {
    cap *= 2;
    time = grown(time, cap);
    seq = grown(seq, cap);
    kind = grown(kind, cap);
    subject = grown(subject, cap);
  }

  function growRequests(): void {
    reqCap *= 2;
    started = grown(started, reqCap);
    apiOf = grown(apiOf, reqCap);
    left = grown(left, reqCap);
  }

  function schedule(at: number, what: number, who: number): void {
    let slot: number;
    if (freeSlots.length > 0) slot = freeSlots.pop()!;
    else {
      slot = nextSlot++;
      if (slot === cap) grow();
    }
    time[slot] = at;
    seq[slot] = counter++;
    kind[slot] = what;
    subject[slot] = who;
    if (held) {
      held = false;
      heap.replaceTop(slot);
    } else heap.add(slot);
  }

  function startApi(req: number, now: number): void {
    const i = Math.floor(fanoutRng.next() * backends);
    let j = Math.floor(fanoutRng.next() * (backends - 1));
    if (j >= i) j++;
    left[req] = 2;
    schedule(now + link, AT_BACKEND, req * backends + i);
    schedule(now + link, AT_BACKEND, req * backends + j);
  }

  let requests = 0;
  let answered = 0;
  let latencySum = 0;
  let events = 0;
  schedule(0, ARRIVAL, 0);

  return () => {
    for (;;) {
      if (held) {
        held = false;
        heap.poll();
      }
      if (heap.size === 0) break;
      const slot = heap.peek()!;
      held = true;
      const now = time[slot]!;
      const what = kind[slot]!;
      const who = subject[slot]!;
      freeSlots.push(slot);
      events++;
      switch (what) {
        case ARRIVAL: {
          let req: number;
          if (freeReqs.length > 0) req = freeReqs.pop()!;
          else {
            req = nextReq++;
            if (req === reqCap) growRequests();
          }
          requests++;
          started[req] = now;
          apiOf[req] = Math.floor(routeRng.next() * TOPOLOGY.apis);
          schedule(now + link, AT_API, req);
          const next = now + arrivals.sample(arrivalRng);
          if (next < until) schedule(next, ARRIVAL, 0);
          break;
        }
        case AT_API: {
          const api = apiOf[who]!;
          if (apiBusy[api]! < TOPOLOGY.apiWorkers) {
            apiBusy[api]!++;
            startApi(who, now);
          } else apiQueue[api]!.push(who);
          break;
        }
        case AT_BACKEND: {
          const backend = who % backends;
          if (backendBusy[backend]! < TOPOLOGY.backendWorkers) {
            backendBusy[backend]!++;
            schedule(now + backendTime.sample(backendRng), BACKEND_DONE, who);
          } else backendQueue[backend]!.push(who);
          break;
        }
        case BACKEND_DONE: {
          const backend = who % backends;
          schedule(now + link, BACK_AT_API, (who - backend) / backends);
          const queue = backendQueue[backend]!;
          if (backendHead[backend]! < queue.length) {
            const next = queue[backendHead[backend]!++]!;
            if (backendHead[backend] === queue.length) {
              queue.length = 0;
              backendHead[backend] = 0;
            }
            schedule(now + backendTime.sample(backendRng), BACKEND_DONE, next);
          } else backendBusy[backend]!--;
          break;
        }
        case BACK_AT_API: {
          if (--left[who]! === 0) schedule(now + apiTime.sample(apiRng), API_DONE, who);
          break;
        }
        case API_DONE: {
          const api = apiOf[who]!;
          schedule(now + link, BACK_AT_CLIENT, who);
          const queue = apiQueue[api]!;
          if (apiHead[api]! < queue.length) {
            const next = queue[apiHead[api]!++]!;
            if (apiHead[api] === queue.length) {
              queue.length = 0;
              apiHead[api] = 0;
            }
            startApi(next, now);
          } else apiBusy[api]!--;
          break;
        }
        case BACK_AT_CLIENT: {
          answered++;
          latencySum += now - started[who]!;
          freeReqs.push(who);
          break;
        }
      }
    }
    return { requests, meanLatency: answered === 0 ? 0 : latencySum / answered, events };
  };
}

/** A copy of `array` with room for `length` entries. */
function grown<T extends Float64Array | Int32Array | Uint8Array>(array: T, length: number): T {
  const out = new (array.constructor as new (n: number) => T)(length);
  out.set(array);
  return out;
}
