/**
 * A pure function's answers kept by their key, all forgotten at once when `limit` are kept: for
 * work asked the same question many times over (a campaign renders one template for a million
 * people; a page of a thousand requests has dates on a few days). What is kept must not be changed.
 */
export function remember<K, V>(make: (key: K) => V, limit = 5000): (key: K) => V {
  const kept = new Map<K, V>();
  return (key) => {
    if (kept.has(key)) return kept.get(key) as V;
    const value = make(key);
    if (kept.size >= limit) kept.clear();
    kept.set(key, value);
    return value;
  };
}
