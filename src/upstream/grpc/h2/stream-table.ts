/**
 * The open streams of a connection by id, with a Map's get/set/delete/size/values.
 *
 * Not a Map: a Map that lives long and sees an insert and a delete per call rehashes often, and V8
 * links each obsolete hash table to its successor (for live iterators). Once a full GC has moved the
 * table to the old generation, that chain keeps every later table, and through them the calls that were
 * in flight, alive across young-generation GCs: measured, ~4 KB per call promoted, and scavenges 6x
 * slower, for as long as the process ran. An object used as a dictionary leaves no such chain.
 */
export class StreamTable<T> {
  private byId: Record<number, T> = Object.create(null);
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: number): T | undefined {
    return this.byId[id];
  }

  set(id: number, value: T): void {
    if (this.byId[id] === undefined) this.count++;
    this.byId[id] = value;
  }

  delete(id: number): void {
    if (this.byId[id] === undefined) return;
    delete this.byId[id];
    if (--this.count === 0) this.byId = Object.create(null); // start small again when idle
  }

  values(): T[] {
    return Object.values(this.byId);
  }
}
