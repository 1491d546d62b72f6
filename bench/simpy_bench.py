"""SimPy side of dsim's benchmark: the same `timeouts` and `mm1` workloads as bench/run.ts.

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


if __name__ == "__main__":
    which = sys.argv[1:] or ["timeouts", "mm1"]
    for name in which:
        print(json.dumps({"timeouts": timeouts, "mm1": mm1}[name]()), flush=True)
