/**
 * A request as it travels between mesh proxies: the application's payload, where the receiving proxy
 * should deliver it (an application it fronts, or a service it is the waypoint of: HBONE's CONNECT
 * target, a sidecar's original destination), and the time the mesh has added to it so far on this hop
 * (proxy passes and connection setup), so that the receiving proxy can record the hop's overhead.
 * Immutable: each leg makes a new one, so the attempts of a retried request never share one.
 *
 * @example
 * ```ts
 * const out = new MeshEnvelope('b-0', 'GET /', 0.8);
 * ```
 */
export class MeshEnvelope {
  /**
   * @param target - the application or service the receiving proxy delivers to; '' until a connection
   *   to a chosen endpoint sets it
   * @param payload - the application's payload
   * @param addedMs - time the mesh has added on this hop so far, ms
   */
  constructor(
    readonly target: string,
    readonly payload: unknown,
    readonly addedMs: number,
  ) {}
}

/** A connection-setup round trip, sent by a connection to the remote proxy's node. @internal */
export class HandshakeHello {
  constructor(
    /** The connection attempt. */
    readonly id: number,
    /** 0 for TCP's round trip, 1 and up for TLS's. */
    readonly step: number,
    /** The first TLS round trip: the server spends its handshake CPU before answering. */
    readonly tls: boolean,
  ) {}
}

/** The remote proxy's answer to a {@link HandshakeHello}. @internal */
export class HandshakeAck {
  constructor(
    readonly id: number,
    readonly step: number,
  ) {}
}
