"""SimPy side of dsim's benchmark: the same `timeouts`, `mm1` and `topology-hour` workloads as bench/run.ts.

Run with Debian's python3-simpy3 (`/usr/bin/python3 bench/simpy_bench.py`). Prints one JSON line per
workload in the benchmark contract's shape, with "engine": "simpy".
"""
import json
import random
import sys
import time

import simpy


def timeouts(processes=1000, waits=1000):
    env = simpy.Environment()
    rng = random.Random(1)

    def proc():
        for _ in range(waits):
            yield env.timeout(rng.expovariate(1.0))

    for _ in range(processes):
        env.process(proc())
    start = time.perf_counter()
    env.run()
    seconds = time.perf_counter() - start
    ops = processes * waits
    return {"workload": "timeouts", "engine": "simpy", "ops": ops, "seconds": round(seconds, 4),
            "rate": round(ops / seconds), "unit": "events"}


def mm1(lam=0.9, mu=1.0, customers=200000):
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    arrivals = random.Random(2)
    services = random.Random(3)
    total = [0.0]

    def customer():
        arrived = env.now
        with server.request() as req:
            yield req
            yield env.timeout(services.expovariate(mu))
        total[0] += env.now - arrived

    def source():
        for _ in range(customers):
            env.process(customer())
            yield env.timeout(arrivals.expovariate(lam))

    env.process(source())
    start = time.perf_counter()
    env.run()
    seconds = time.perf_counter() - start
    return {"workload": "mm1", "engine": "simpy", "ops": customers, "seconds": round(seconds, 4),
            "rate": round(customers / seconds), "unit": "customers",
            "meanTimeInSystem": round(total[0] / customers, 4), "theoryMeanTimeInSystem": round(1 / (mu - lam), 4)}


def topology(seconds=10, rate=10000.0, apis=4, backends=15, api_workers=32, api_ms=0.5,
             backend_workers=4, backend_ms=2.0, link_ms=0.2):
    """The 20-node topology of bench/topology.ts: Poisson clients -> one of 4 api services -> 2 distinct
    backends of 15 in parallel -> the api's own computation -> the answer. Every hop is link_ms; workers
    are FIFO resources. Times in ms. Shorter than dsim's span (SimPy is slower); the rate is per request."""
    env = simpy.Environment()
    api = [simpy.Resource(env, capacity=api_workers) for _ in range(apis)]
    backend = [simpy.Resource(env, capacity=backend_workers) for _ in range(backends)]
    arrivals = random.Random(1)
    route = random.Random(2)
    service = random.Random(3)
    done = [0, 0.0]

    def call_backend(b):
        yield env.timeout(link_ms)
        with backend[b].request() as req:
            yield req
            yield env.timeout(service.expovariate(1.0 / backend_ms))
        yield env.timeout(link_ms)

    def request():
        start = env.now
        yield env.timeout(link_ms)
        with api[route.randrange(apis)].request() as req:
            yield req
            i = route.randrange(backends)
            j = route.randrange(backends - 1)
            if j >= i:
                j += 1
            yield env.all_of([env.process(call_backend(i)), env.process(call_backend(j))])
            yield env.timeout(service.expovariate(1.0 / api_ms))
        yield env.timeout(link_ms)
        done[0] += 1
        done[1] += env.now - start

    def source():
        while True:
            gap = arrivals.expovariate(rate / 1000.0)
            if env.now + gap >= seconds * 1000:
                return
            yield env.timeout(gap)
            env.process(request())

    env.process(source())
    start = time.perf_counter()
    env.run()
    elapsed = time.perf_counter() - start
    return {"workload": "topology-hour", "engine": "simpy", "ops": done[0], "seconds": round(elapsed, 4),
            "rate": round(done[0] / elapsed), "unit": "requests", "meanLatency": round(done[1] / done[0], 4),
            "simulatedSeconds": seconds}


if __name__ == "__main__":
    which = sys.argv[1:] or ["timeouts", "mm1", "topology-hour"]
    for name in which:
        print(json.dumps({"timeouts": timeouts, "mm1": mm1, "topology-hour": topology}[name]()), flush=True)
