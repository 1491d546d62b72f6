import {
  checkDuration,
  checkFunction,
  checkName,
  checkOptions,
  DsimError,
  type Duration,
  invalidOption,
  optionKeys,
  type Simulation,
} from '@dsim/core';
import { EndpointList, type EndpointListener, type EndpointSource } from './endpoint-source.js';
import { ReadinessProbe } from './readiness-probe.js';

/**
 * Options of {@link ServiceEndpoints}.
 *
 * @example
 * ```ts
 * const options: ServiceEndpointsOptions = { propagationDelay: '2s' };
 * ```
 */
export interface ServiceEndpointsOptions {
  /**
   * From a readiness change (or a pod's termination) to the moment clients' traffic follows it: the
   * EndpointSlice controller's update, the API server's watch and kube-proxy's rule sync together.
   * Kubernetes documents no end-to-end figure; the default is kube-proxy's `minSyncPeriod` (1 s for
   * iptables), the least a rule change waits when another sync just ran. A duration >= 0.
   * @default 1000
   */
  propagationDelay?: Duration;
  /** Name in trace records. @default 'service' */
  name?: string;
}

const ENDPOINTS_KEYS = optionKeys<ServiceEndpointsOptions>()({ propagationDelay: true, name: true });

/**
 * Options of {@link ServiceEndpoints.terminate}: Kubernetes' pod termination
 * (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination).
 *
 * @example
 * ```ts
 * const options: TerminateOptions = { preStop: '5s', onSigterm: () => app.stop() };
 * ```
 */
export interface TerminateOptions {
  /**
   * How long the `preStop` hook runs before the kubelet sends SIGTERM (the common `sleep` hook that lets
   * the endpoint removal reach every kube-proxy first). It counts against `gracePeriod`. A duration >= 0.
   * @default 0
   */
  preStop?: Duration;
  /** `terminationGracePeriodSeconds`: SIGKILL this long after the termination began. A duration >= 0. @default 30000 */
  gracePeriod?: Duration;
  /** Called at SIGTERM: the application stops taking connections and drains. @default none */
  onSigterm?: () => void;
  /**
   * Called at SIGKILL (the grace period ended; 2 s later when the preStop hook itself outlasted it, the
   * kubelet's one-off extension). @default none
   */
  onKill?: () => void;
}

const TERMINATE_KEYS = optionKeys<TerminateOptions>()({
  preStop: true,
  gracePeriod: true,
  onSigterm: true,
  onKill: true,
});

interface Pod {
  readonly address: string;
  ready: boolean;
  terminating: boolean;
}

/**
 * A Kubernetes Service's endpoints as its clients' traffic follows them: pods are endpoints while ready
 * and not terminating (the EndpointSlice controller's `ready` condition), and every change reaches the
 * clients `propagationDelay` later (controller, API server watch, kube-proxy's rule sync). `endpoints`
 * is the propagated list, what kube-proxy routes a new connection to; `ready(address)` is the control
 * plane's view.
 *
 * A pod added with a {@link ReadinessProbe} joins when the probe first passes and leaves when it fails
 * `failureThreshold` times; a pod added without one is ready at once. `terminate(address)` models a
 * pod deletion: at that instant the endpoint turns not ready (it leaves the clients' list one
 * `propagationDelay` later) and, in parallel, the kubelet runs the `preStop` hook and then sends SIGTERM.
 * Without a preStop sleep the application stops while kube-proxy still routes to it: connections are
 * refused for about `propagationDelay`, the race the "add a preStop sleep" advice fixes.
 *
 * The propagation is one constant delay; kube-proxy's batching of syncs, EndpointSlice batching and
 * per-node differences are not modelled.
 *
 * Trace records (when `sim.tracing`): `@dsim.discovery.endpoints` `{ service, endpoints, added, removed }`
 * when the propagated list changes.
 *
 * @example
 * ```ts
 * const svc = new ServiceEndpoints(sim, { propagationDelay: '1s' });
 * svc.addPod('orders-0', new ReadinessProbe(net.addNode('kubelet-0'), { target: 'orders-0' }));
 * feedLoadBalancer(svc, kubeProxy); // a LoadBalancer { policy: { kind: 'random' } }
 * sim.schedule('5m', () => svc.terminate('orders-0', { preStop: '5s', onSigterm: () => stopServing() }));
 * ```
 */
export class ServiceEndpoints implements EndpointSource {
  readonly propagationDelay: number;
  readonly name: string;
  private readonly pods = new Map<string, Pod>();
  private readonly list = new EndpointList();

  /**
   * @param sim - the simulation (the control plane is not a network node here)
   * @param options - see {@link ServiceEndpointsOptions}
   */
  constructor(
    readonly sim: Simulation,
    options?: ServiceEndpointsOptions,
  ) {
    const C = 'ServiceEndpoints';
    checkOptions(C, options ?? {}, ENDPOINTS_KEYS);
    this.propagationDelay = checkDuration(C, 'propagationDelay', options?.propagationDelay, {}, 1000);
    this.name = checkName(C, 'name', options?.name, 'service');
    this.list.onChange((endpoints, added, removed) => {
      if (this.sim.tracing)
        this.sim.emit('@dsim.discovery.endpoints', {
          service: this.name,
          endpoints: [...endpoints],
          added: [...added],
          removed: [...removed],
        });
    });
  }

  /** The endpoints clients' traffic goes to now (after propagation). */
  get endpoints(): readonly string[] {
    return this.list.endpoints;
  }

  onChange(listener: EndpointListener): () => void {
    return this.list.onChange(listener);
  }

  /** Whether the control plane counts `address` as a ready endpoint now (before propagation). */
  ready(address: string): boolean {
    const pod = this.pods.get(address);
    return pod?.ready === true && !pod.terminating;
  }

  /**
   * Adds a pod: ready when `probe` first passes (and following it), or at once without a probe.
   *
   * @example
   * ```ts
   * svc.addPod('orders-1');
   * ```
   */
  addPod(address: string, probe?: ReadinessProbe): void {
    const C = 'ServiceEndpoints';
    checkName(C, 'addPod(address)', address);
    if (this.pods.has(address))
      throw new DsimError(
        'INVALID_ARGUMENT',
        `${C} ${this.name}: addPod: ${JSON.stringify(address)} is already a pod`,
        {
          details: { component: C, field: 'addPod(address)', value: address },
        },
      );
    if (probe !== undefined && !(probe instanceof ReadinessProbe))
      throw invalidOption(C, 'addPod(probe)', probe, 'a ReadinessProbe');
    if (probe !== undefined && probe.address !== address)
      throw invalidOption(
        C,
        'addPod(probe)',
        probe.address,
        `a ReadinessProbe of ${JSON.stringify(address)}`,
      );
    const pod: Pod = { address, ready: probe === undefined ? true : probe.ready, terminating: false };
    this.pods.set(address, pod);
    probe?.onChange((ready) => {
      if (pod.ready === ready) return;
      pod.ready = ready;
      this.changed();
    });
    if (pod.ready) this.changed();
  }

  /**
   * Deletes a pod the Kubernetes way: its endpoint turns not ready now (clients stop getting it one
   * `propagationDelay` later) while the kubelet runs `preStop`, then SIGTERM (`onSigterm`), then
   * SIGKILL at the grace period (`onKill`).
   *
   * @example
   * ```ts
   * svc.terminate('orders-0', { preStop: '5s', onSigterm: () => { stopped = true; } });
   * ```
   */
  terminate(address: string, options?: TerminateOptions): void {
    const C = 'ServiceEndpoints.terminate';
    checkOptions(C, options ?? {}, TERMINATE_KEYS);
    const pod = this.pods.get(address);
    if (pod === undefined)
      throw invalidOption(
        C,
        'address',
        address,
        `a pod of ${this.name}: ${[...this.pods.keys()].join(', ')}`,
      );
    const preStop = checkDuration(C, 'preStop', options?.preStop, {}, 0);
    const grace = checkDuration(C, 'gracePeriod', options?.gracePeriod, {}, 30_000);
    const onSigterm =
      options?.onSigterm === undefined
        ? undefined
        : checkFunction<() => void>(C, 'onSigterm', options.onSigterm, '() => void');
    const onKill =
      options?.onKill === undefined
        ? undefined
        : checkFunction<() => void>(C, 'onKill', options.onKill, '() => void');
    if (pod.terminating) return;
    pod.terminating = true;
    this.changed();
    if (onSigterm !== undefined) this.sim.schedule(Math.min(preStop, grace), onSigterm);
    if (onKill !== undefined) this.sim.schedule(preStop >= grace ? grace + 2000 : grace, onKill);
  }

  private changed(): void {
    const snapshot: string[] = [];
    for (const pod of this.pods.values()) if (pod.ready && !pod.terminating) snapshot.push(pod.address);
    if (this.propagationDelay === 0) this.list.set(snapshot);
    else this.sim.schedule(this.propagationDelay, () => this.list.set(snapshot));
  }
}
