/**
 * The entry of `key` in `map`, made and stored on first use. The store's maps
 * (series, minutes, agents, pools) all grow this way, on the ingest path; one
 * lookup when present, which a `??=` on `get` would not save.
 */
export function getOrCreate<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}
