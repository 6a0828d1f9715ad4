/**
 * The open streams of a connection by id, with a Map's get/set/delete/size/values.
 *
 * Our stream ids are odd and rise by two, and the streams in flight are mostly a window of recent
 * ids, so a ring indexed by `(id >> 1) & mask` finds a stream in one array read. A stream that
 * outlives a whole turn of the ring collides with a newer one; the newer one then goes to a small
 * overflow dictionary. The ring doubles when it is half full.
 *
 * Not a Map: a Map that lives long and sees an insert and a delete per call rehashes often, and V8
 * links each obsolete hash table to its successor (for live iterators). Once a full GC has moved the
 * table to the old generation, that chain keeps every later table, and through them the calls that were
 * in flight, alive across young-generation GCs: measured, ~4 KB per call promoted, and scavenges 6x
 * slower. Nor an object keyed by id: V8 keeps sparse integer keys in a number dictionary, ~15x slower
 * than the ring for a get, a delete and a set (measured).
 */
export class StreamTable<T> {
  private ids = new Int32Array(64); // 0 = free (stream 0 is the connection, never a stream here)
  private vals: Array<T | undefined> = new Array(64).fill(undefined);
  private mask = 63;
  private count = 0;
  private overflow: Record<number, T> = Object.create(null);
  private overflowCount = 0;

  get size(): number {
    return this.count;
  }

  get(id: number): T | undefined {
    const i = (id >>> 1) & this.mask;
    if (this.ids[i] === id) return this.vals[i];
    return this.overflowCount > 0 ? this.overflow[id] : undefined;
  }

  set(id: number, value: T): void {
    const i = (id >>> 1) & this.mask;
    if (this.ids[i] === id) {
      this.vals[i] = value;
      return;
    }
    if (this.overflowCount > 0 && this.overflow[id] !== undefined) {
      this.overflow[id] = value;
      return;
    }
    if (this.ids[i] === 0) {
      this.ids[i] = id;
      this.vals[i] = value;
    } else {
      this.overflow[id] = value;
      this.overflowCount++;
    }
    if (++this.count * 2 > this.ids.length) this.grow();
  }

  delete(id: number): void {
    const i = (id >>> 1) & this.mask;
    if (this.ids[i] === id) {
      this.ids[i] = 0;
      this.vals[i] = undefined;
      this.count--;
    } else if (this.overflowCount > 0 && this.overflow[id] !== undefined) {
      delete this.overflow[id];
      if (--this.overflowCount === 0) this.overflow = Object.create(null);
      this.count--;
    }
  }

  values(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.ids.length; i++) if (this.ids[i] !== 0) out.push(this.vals[i]!);
    if (this.overflowCount > 0) out.push(...Object.values(this.overflow));
    return out;
  }

  private grow(): void {
    const entries: Array<[number, T]> = [];
    for (let i = 0; i < this.ids.length; i++)
      if (this.ids[i] !== 0) entries.push([this.ids[i]!, this.vals[i]!]);
    for (const [id, v] of Object.entries(this.overflow)) entries.push([Number(id), v]);
    const size = this.ids.length * 2;
    this.ids = new Int32Array(size);
    this.vals = new Array(size).fill(undefined);
    this.mask = size - 1;
    this.count = 0;
    this.overflow = Object.create(null);
    this.overflowCount = 0;
    for (const [id, v] of entries) this.set(id, v);
  }
}
