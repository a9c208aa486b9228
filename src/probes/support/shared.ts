/**
 * Requests shared by the probes of one run: the same request (method, URL, headers, address and
 * route) is sent once, and every probe that needs it reads the one answer. The auth probe reads
 * the http probe's GET this way instead of sending a second one to a backend that may be slow.
 *
 * @example
 * const shared = createSharedRequests();
 * const [a, b] = await Promise.all([shared.once(ca, key, send), shared.once(ca, key, send)]); // one send
 */
export interface SharedRequests {
  /**
   * The outcome of the first call made with this `scope` and `key`; `make` runs for that call only.
   * `scope` is compared by identity (e.g. the CA list the request trusts), `key` by value.
   */
  once<T>(scope: unknown, key: string, make: () => Promise<T>): Promise<T>;
}

/** A fresh set of shared requests, for one run. */
export function createSharedRequests(): SharedRequests {
  const scopes = new Map<unknown, Map<string, Promise<unknown>>>();
  return {
    once<T>(scope: unknown, key: string, make: () => Promise<T>): Promise<T> {
      let byKey = scopes.get(scope);
      if (!byKey) scopes.set(scope, (byKey = new Map()));
      let pending = byKey.get(key) as Promise<T> | undefined;
      if (!pending) byKey.set(key, (pending = make()));
      return pending;
    },
  };
}
