// Concurrent requests for the same key share one run of the work (a discovery, a JWKS fetch): a burst
// of notifications from a new peer costs one lookup, not one per notification.
export function singleFlight<V>(): (key: string, run: () => Promise<V>) => Promise<V> {
  const inFlight = new Map<string, Promise<V>>();
  return (key, run) => {
    let pending = inFlight.get(key);
    if (!pending) {
      pending = run().finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  };
}
