/**
 * A Map of at most `max` entries: storing a key again makes it the newest, and past `max` the
 * least recently stored entry goes. What the process-wide caches (TLS sessions, DNS answers) and
 * the capture sink's URL index need to stay bounded on a crawl of any length.
 */
export class BoundedMap<V> {
  private readonly map = new Map<string, V>();

  constructor(readonly max: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }
}
