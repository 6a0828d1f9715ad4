/** gRPC metadata of one call: ordered keys, each with its values (Buffer for `-bin` keys, else text). */
export type MetadataValue = string | Buffer;

export class Metadata {
  private readonly map = new Map<string, MetadataValue[]>();

  add(key: string, value: MetadataValue): void {
    const values = this.map.get(key);
    if (values) values.push(value);
    else this.map.set(key, [value]);
  }

  set(key: string, value: MetadataValue): void {
    this.map.set(key, [value]);
  }

  remove(key: string): void {
    this.map.delete(key);
  }

  get(key: string): MetadataValue[] {
    return this.map.get(key) ?? [];
  }

  entries(): IterableIterator<[string, MetadataValue[]]> {
    return this.map.entries();
  }
}
