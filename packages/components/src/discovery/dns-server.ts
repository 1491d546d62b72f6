import {
  checkDuration,
  type Duration,
  invalidOption,
  isObject,
  type NetNode,
  optionKeys,
  RpcEndpoint,
  requireOptions,
} from '@dsim/core';
import type { EndpointSource } from './endpoint-source.js';

/**
 * A DNS answer: the addresses of a name and how long a resolver may cache them.
 *
 * @example
 * ```ts
 * const answer: DnsAnswer = { addresses: ['orders-0', 'orders-1'], ttl: 5000 };
 * ```
 */
export interface DnsAnswer {
  readonly addresses: readonly string[];
  /** The record's TTL, ms. */
  readonly ttl: number;
}

/**
 * Options of a {@link DnsServer}.
 *
 * @example
 * ```ts
 * const options: DnsServerOptions = { records: { orders: svc }, ttl: '5s' };
 * ```
 */
export interface DnsServerOptions {
  /**
   * The names it answers: a fixed address list, or an {@link EndpointSource} read at each query (a
   * headless Service whose records are the ready endpoints, Consul's DNS interface over passing
   * instances).
   */
  records: Readonly<Record<string, readonly string[] | EndpointSource>>;
  /**
   * The TTL of every answer. CoreDNS's `kubernetes` plugin answers Service records with a TTL of 5 s
   * (its `ttl` option, https://coredns.io/plugins/kubernetes/); Consul's `service_ttl` defaults to 0
   * (no caching); Route 53 takes whatever the record says (60 s is common). A duration >= 0.
   * @default 5000
   */
  ttl?: Duration;
}

const DNS_SERVER_KEYS = optionKeys<DnsServerOptions>()({ records: true, ttl: true });

/**
 * An authoritative DNS server on its own node: answers `{ op: 'resolve', name }` with the name's
 * current addresses and the TTL ({@link DnsAnswer}); an unknown name is answered with an `error`
 * (NXDOMAIN). Pair it with {@link DnsResolver}s on the clients' nodes.
 *
 * @example
 * ```ts
 * new DnsServer(net.addNode('dns'), { records: { orders: svc }, ttl: '5s' });
 * const resolver = new DnsResolver(net.addNode('web'), { server: 'dns' });
 * ```
 */
export class DnsServer {
  /** The TTL of every answer, ms. */
  readonly ttl: number;
  private readonly records: Readonly<Record<string, readonly string[] | EndpointSource>>;
  private answered = 0;

  /**
   * @param node - the server's node
   * @param options - see {@link DnsServerOptions}
   */
  constructor(
    readonly node: NetNode<any>,
    options: DnsServerOptions,
  ) {
    const C = 'DnsServer';
    if (node === null || typeof node !== 'object' || typeof node.setTimer !== 'function')
      throw invalidOption(C, 'node', node, 'a network node (net.addNode(...))');
    requireOptions(C, options, DNS_SERVER_KEYS);
    if (!isObject(options.records))
      throw invalidOption(C, 'records', options.records, 'an object: name -> addresses or an EndpointSource');
    for (const [name, value] of Object.entries(options.records)) {
      const list = Array.isArray(value) && value.every((a) => typeof a === 'string' && a !== '');
      const source = isObject(value) && Array.isArray((value as EndpointSource).endpoints);
      if (!list && !source)
        throw invalidOption(C, `records.${name}`, value, 'an array of addresses or an EndpointSource');
    }
    this.records = { ...options.records };
    this.ttl = checkDuration(C, 'ttl', options.ttl, {}, 5000);
    RpcEndpoint.of(node).serve((request, reply) => {
      const p = request.payload as { op?: unknown; name?: unknown } | null;
      const name = p !== null && typeof p === 'object' && p.op === 'resolve' ? p.name : undefined;
      const record =
        typeof name === 'string' && Object.hasOwn(this.records, name) ? this.records[name] : undefined;
      if (record === undefined) {
        reply.error('error', `NXDOMAIN ${String(name)}`);
        return;
      }
      this.answered++;
      const addresses = Array.isArray(record) ? record : (record as EndpointSource).endpoints;
      const answer: DnsAnswer = { addresses: Object.freeze([...addresses]), ttl: this.ttl };
      reply.ok(answer);
    });
  }

  /** Queries answered. */
  get queries(): number {
    return this.answered;
  }
}
