/** gRPC metadata of one call: ordered keys, each with its values (Buffer for `-bin` keys, else text). */
export type MetadataValue = string | Buffer;

const NONE: readonly MetadataValue[] = Object.freeze([]);
const EMPTY = new Map<string, MetadataValue[]>();

export class Metadata {
  // Made on the first key: most calls' header metadata stays empty.
  private map: Map<string, MetadataValue[]> | undefined;

  add(key: string, value: MetadataValue): void {
    const values = this.map?.get(key);
    if (values) values.push(value);
    else (this.map ??= new Map()).set(key, [value]);
  }

  set(key: string, value: MetadataValue): void {
    (this.map ??= new Map()).set(key, [value]);
  }

  remove(key: string): void {
    this.map?.delete(key);
  }

  get(key: string): readonly MetadataValue[] {
    return this.map?.get(key) ?? NONE;
  }

  entries(): IterableIterator<[string, MetadataValue[]]> {
    return (this.map ?? EMPTY).entries();
  }
}
