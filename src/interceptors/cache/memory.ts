import { LRUCache } from "lru-cache";
import { type Entry, keepUntil } from "./entry.js";

/** What a purge names: every entry of a route (method full name), one key, or one tag. */
export interface PurgeSelector {
  readonly route?: string;
  readonly key?: string;
  readonly tag?: string;
}

/** The in-process tier: an LRU bounded in bytes, in all and per entry; entries expire with their last window. */
export class MemoryTier {
  private readonly lru: LRUCache<string, Entry>;

  constructor(
    maxBytes: number,
    private readonly maxEntryBytes: number,
  ) {
    this.lru = new LRUCache<string, Entry>({
      maxSize: maxBytes,
      sizeCalculation: (e) => e.size,
      ttlAutopurge: false,
    });
  }

  get(key: string): Entry | undefined {
    return this.lru.get(key);
  }

  /** Keeps `e` until its last window ends; an entry over maxEntryBytes is not kept (false). */
  set(e: Entry, now = Date.now()): boolean {
    const ttl = keepUntil(e) - now;
    if (e.size > this.maxEntryBytes || ttl <= 0) return false;
    this.lru.set(e.key, e, { ttl });
    return true;
  }

  /** Removes what the selector names; returns how many entries went. */
  purge(sel: PurgeSelector): number {
    let n = 0;
    for (const [key, e] of this.lru.entries()) {
      if (matches(key, e, sel) && this.lru.delete(key)) n++;
    }
    return n;
  }

  get size(): number {
    return this.lru.size;
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }
}

/** Whether an entry is named by a purge selector (all given parts must match). */
export function matches(key: string, e: Pick<Entry, "tags">, sel: PurgeSelector): boolean {
  if (sel.key !== undefined && key !== sel.key) return false;
  if (sel.route !== undefined && !key.startsWith(`${sel.route}:`)) return false;
  if (sel.tag !== undefined && !e.tags.includes(sel.tag)) return false;
  return sel.key !== undefined || sel.route !== undefined || sel.tag !== undefined;
}
