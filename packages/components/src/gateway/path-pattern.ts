import { invalidOption, type OptionOwner, type RpcErrorKind } from '@dsim/core';

/**
 * A route's path pattern, compiled once: segments split on `/`, where a segment is a literal, a
 * parameter (`:id`, one segment) or, as the last segment only, `*` (the rest of the path, possibly
 * nothing). The grammar is the common subset of Express, AWS API Gateway (`{id}`, `{proxy+}`) and
 * Envoy's prefix match.
 *
 * @example
 * ```ts
 * const p = compilePathPattern('ApiGateway', 'routes[0].path', '/users/:id/*');
 * p.matches('/users/42/orders'); // true
 * p.matches('/users');           // false
 * ```
 */
export class PathPattern {
  private constructor(
    /** The pattern as written. */
    readonly source: string,
    private readonly segments: readonly string[],
    private readonly rest: boolean,
  ) {}

  /** @internal Use {@link compilePathPattern}. */
  static _of(source: string, segments: readonly string[], rest: boolean): PathPattern {
    return new PathPattern(source, segments, rest);
  }

  /** Whether `path` (query string and trailing slash ignored) matches. */
  matches(path: string): boolean {
    const parts = splitPath(path);
    const n = this.segments.length;
    if (this.rest ? parts.length < n : parts.length !== n) return false;
    for (let i = 0; i < n; i++) {
      const s = this.segments[i]!;
      if (s.charCodeAt(0) !== 58 /* ':' */ && s !== parts[i]) return false;
    }
    return true;
  }
}

/**
 * Compiles a path pattern, or throws an INVALID_ARGUMENT naming `field` when it is not one: it must start
 * with `/`, and `*` may only be the last segment.
 *
 * @example
 * ```ts
 * compilePathPattern('ApiGateway', 'routes[1].path', '/orders/*');
 * ```
 */
export function compilePathPattern(where: OptionOwner, field: string, pattern: unknown): PathPattern {
  const allowed = 'a path pattern starting with "/", such as "/orders", "/users/:id" or "/static/*"';
  if (typeof pattern !== 'string' || !pattern.startsWith('/'))
    throw invalidOption(where, field, pattern, allowed);
  const segments = splitPath(pattern);
  const star = segments.indexOf('*');
  if (star !== -1 && star !== segments.length - 1)
    throw invalidOption(where, field, pattern, `${allowed} ("*" only as the last segment)`);
  for (const s of segments)
    if (s === ':' || (s.includes('*') && s !== '*'))
      throw invalidOption(where, field, pattern, `${allowed} (a parameter needs a name; "*" stands alone)`);
  const rest = star !== -1;
  return PathPattern._of(pattern, rest ? segments.slice(0, -1) : segments, rest);
}

/** `/a/b/?q=1` → `['a', 'b']`. */
function splitPath(path: string): string[] {
  const q = path.indexOf('?');
  const p = q === -1 ? path : path.slice(0, q);
  const out: string[] = [];
  for (const s of p.split('/')) if (s !== '') out.push(s);
  return out;
}

/**
 * A route's `method` option: undefined (any method), one upper-case method, or a non-empty array of
 * them; anything else is an INVALID_ARGUMENT naming `field`.
 *
 * @example
 * ```ts
 * checkMethods('ApiGateway', 'routes[0].method', ['GET', 'HEAD']); // ['GET', 'HEAD']
 * checkMethods('ApiGateway', 'routes[0].method', undefined);       // undefined: any method
 * ```
 */
export function checkMethods(where: OptionOwner, field: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    list.some((m) => typeof m !== 'string' || !/^[A-Z]+$/.test(m))
  )
    throw invalidOption(
      where,
      field,
      value,
      'an upper-case HTTP method such as "GET", or a non-empty array of them',
    );
  return [...(list as string[])];
}

/**
 * How a proxy answers its caller when its own call to a backend failed with `kind`: the proxy's own
 * timeout becomes a 504 (`gateway-timeout`), as Envoy and API Gateway answer; other kinds pass through.
 *
 * @example
 * ```ts
 * reply.error(proxiedErrorKind(res.error.kind), res.error.message);
 * ```
 */
export function proxiedErrorKind(kind: RpcErrorKind): Exclude<RpcErrorKind, 'timeout'> {
  return kind === 'timeout' ? 'gateway-timeout' : kind;
}
