import { Redis } from "ioredis";

/** A google.longrunning.Operation as the gateway keeps and serves it (proto3 JSON). */
export interface Operation {
  /** "operations/{id}" */
  name: string;
  done: boolean;
  metadata: { "@type": string; value: { method: string; createTime: string; progress?: unknown } };
  error?: { code: number; message: string; details: unknown[] };
  response?: Record<string, unknown>;
  /** Who started it, when the caller was authenticated (see ownerOf); kept, never served. */
  owner?: string;
}

/** The operation as clients see it: without its owner. */
export function served(op: Operation): string {
  const { owner: _owner, ...rest } = op;
  return JSON.stringify(rest);
}

export interface OperationStore {
  /**
   * Records a new operation; with an idempotency key, returns the operation already recorded under it
   * (within the TTL) instead, and records nothing.
   */
  create(op: Operation, idempotencyKey: string | undefined): Promise<{ op: Operation; existing: boolean }>;
  get(id: string): Promise<Operation | undefined>;
  /** Forgets an operation whose message the broker did not take (and frees its idempotency key). */
  discard(id: string, idempotencyKey: string | undefined): Promise<void>;
  complete(id: string, result: Pick<Operation, "error" | "response">): Promise<boolean>;
  /** Records a worker's progress report (any JSON) while the operation runs. */
  progress(id: string, progress: unknown): Promise<boolean>;
  close(): Promise<void>;
}

export const idOf = (op: Operation): string => op.name.slice("operations/".length);

/** In this process; a single gateway instance (or operations that every instance need not see). */
export class MemoryOperations implements OperationStore {
  private readonly ops = new Map<string, { op: Operation; expires: number }>();
  private readonly keys = new Map<string, { id: string; expires: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly ttlMs: number) {
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const [k, v] of this.ops) if (v.expires < now) this.ops.delete(k);
      for (const [k, v] of this.keys) if (v.expires < now) this.keys.delete(k);
    }, 60_000);
    this.sweeper.unref();
  }

  async create(op: Operation, key: string | undefined) {
    const now = Date.now();
    if (key) {
      const held = this.keys.get(key);
      const existing = held && held.expires > now ? this.ops.get(held.id) : undefined;
      if (existing) return { op: existing.op, existing: true };
      this.keys.set(key, { id: idOf(op), expires: now + this.ttlMs });
    }
    this.ops.set(idOf(op), { op, expires: now + this.ttlMs });
    return { op, existing: false };
  }

  async get(id: string) {
    const v = this.ops.get(id);
    return v && v.expires > Date.now() ? v.op : undefined;
  }

  async discard(id: string, key: string | undefined) {
    this.ops.delete(id);
    if (key && this.keys.get(key)?.id === id) this.keys.delete(key);
  }

  async complete(id: string, result: Pick<Operation, "error" | "response">) {
    const v = this.ops.get(id);
    if (!v) return false;
    Object.assign(v.op, { done: true, ...result });
    return true;
  }

  async progress(id: string, progress: unknown) {
    const v = this.ops.get(id);
    if (!v || v.op.done) return false;
    v.op.metadata.value.progress = progress;
    return true;
  }

  async close() {
    clearInterval(this.sweeper);
  }
}

/** In Redis: every gateway instance answers GET /v1/operations/{id} and honours the same keys. */
export class RedisOperations implements OperationStore {
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly ttlMs: number,
    private readonly prefix = "protogate:op:",
  ) {
    // Commands wait for the connection (briefly: commandTimeout) rather than fail while it is set up.
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 1000 });
    this.redis.on("error", () => undefined); // surfaced per request
  }

  async create(op: Operation, key: string | undefined) {
    const id = idOf(op);
    if (key) {
      // Atomic: the first request with this key wins; the others get its operation.
      const won = await this.redis.set(`${this.prefix}key:${key}`, id, "PX", this.ttlMs, "NX");
      if (!won) {
        const held = await this.redis.get(`${this.prefix}key:${key}`);
        const existing = held ? await this.get(held) : undefined;
        if (existing) return { op: existing, existing: true };
        await this.redis.set(`${this.prefix}key:${key}`, id, "PX", this.ttlMs);
      }
    }
    await this.redis.set(this.prefix + id, JSON.stringify(op), "PX", this.ttlMs);
    return { op, existing: false };
  }

  async get(id: string) {
    const text = await this.redis.get(this.prefix + id);
    return text ? (JSON.parse(text) as Operation) : undefined;
  }

  async discard(id: string, key: string | undefined) {
    await this.redis.del(this.prefix + id);
    if (key && (await this.redis.get(`${this.prefix}key:${key}`)) === id)
      await this.redis.del(`${this.prefix}key:${key}`);
  }

  async complete(id: string, result: Pick<Operation, "error" | "response">) {
    const op = await this.get(id);
    if (!op) return false;
    await this.redis.set(
      this.prefix + id,
      JSON.stringify({ ...op, done: true, ...result }),
      "PX",
      this.ttlMs,
    );
    return true;
  }

  async progress(id: string, progress: unknown) {
    const op = await this.get(id);
    if (!op || op.done) return false;
    op.metadata.value.progress = progress;
    await this.redis.set(this.prefix + id, JSON.stringify(op), "PX", this.ttlMs);
    return true;
  }

  async close() {
    this.redis.disconnect();
  }
}
