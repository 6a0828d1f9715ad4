import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type * as amqp from "amqplib";
import type { FastifyRequest } from "fastify";
import {
  decodeMessage,
  encodeMessage,
  type MessageInfo,
  type Msg,
  messageFromJson,
  messageToJson,
  typeUrlOf,
} from "../../codec/index.js";
import { Code } from "../../errors/code.js";
import { GatewayError } from "../../errors/gateway-error.js";
import type { Route } from "../../routing/route.js";
import type { LoadedConfig } from "../../server/load-table.js";
import { Broker } from "./broker.js";
import type { AmqpBinding, AmqpConfig } from "./config.js";
import {
  MemoryOperations,
  type Operation,
  type OperationStore,
  RedisOperations,
  served,
} from "./operations.js";

/** What the HTTP side sends back for an AMQP-bound route. */
export interface AmqpAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly contentType: string;
  readonly body: string | Buffer;
}

const PROTOBUF = "application/x-protobuf";
const JSON_TYPE = "application/json";
const STATUS_TYPE = "google.rpc.Status";

/**
 * Methods bound to RabbitMQ instead of a gRPC backend.
 * - command: publish (confirmed, routed, persistent), answer 202 + an Operation, record the worker's
 *   result when it comes back on the results exchange (correlation_id = operation id);
 * - rpc: request/reply over direct reply-to, answered like a gRPC call.
 */
export class AmqpUpstream {
  private readonly brokers = new Map<string, Broker>();
  readonly operations: OperationStore;

  constructor(
    private readonly config: AmqpConfig,
    private readonly current: () => LoadedConfig,
    log: { info: (m: string) => void; warn: (m: string) => void },
  ) {
    this.operations =
      config.operations.store === "redis"
        ? new RedisOperations(config.operations.redisUrl, config.operations.ttlMs)
        : new MemoryOperations(config.operations.ttlMs);
    // With operations in Redis, instances share one durable results queue (whoever consumes a result can
    // record it). In memory, each instance gets its own queue, bound to the same exchange: every instance
    // sees every result and records those of its own operations; the queue outlives reconnects and is
    // removed by the broker an hour after its instance is gone.
    const shared = config.operations.store === "redis";
    const queue = shared
      ? config.operations.resultsQueue
      : `${config.operations.resultsQueue}.${hostname()}.${process.pid}.${randomUUID().slice(0, 8)}`;
    for (const [name, url] of Object.entries(config.brokers)) {
      const results = {
        exchange: config.operations.resultsExchange,
        queue,
        queueArgs: shared ? {} : { "x-expires": 3_600_000 },
        handle: (m: amqp.ConsumeMessage) => this.record(m),
      };
      this.brokers.set(name, new Broker(name, url, results, log));
    }
  }

  async start(): Promise<void> {
    await Promise.all([...this.brokers.values()].map((b) => b.start()));
  }

  /** Readiness: every broker connected. */
  health(): Record<string, "connected" | "disconnected"> {
    return Object.fromEntries(
      [...this.brokers].map(([n, b]) => [n, b.connected ? "connected" : "disconnected"]),
    );
  }

  /**
   * `claims`: the caller's forwarded claims (auth.forwardClaims), sent as message headers. `owner`: the
   * authenticated caller (ownerOf); their operations and Idempotency-Keys are theirs alone.
   */
  async handle(
    route: Route,
    binding: AmqpBinding,
    msg: Msg,
    req: FastifyRequest,
    claims: Record<string, string> = {},
    owner: string | undefined = undefined,
  ): Promise<AmqpAnswer> {
    const broker = this.brokers.get(binding.broker);
    if (!broker)
      throw new GatewayError(Code.UNAVAILABLE, `no AMQP broker named "${binding.broker}" is configured`);
    await broker.declareExchange(binding.exchange, binding.exchangeType);
    const input = route.method.input;
    const content =
      binding.encoding === "json"
        ? Buffer.from(JSON.stringify(messageToJson(input, msg, route.write)))
        : Buffer.from(encodeMessage(input, msg));
    const key = routingKey(binding.routingKey, msg);
    const id = randomUUID();
    const given = header(req, "idempotency-key");
    const props: amqp.Options.Publish = {
      messageId: given ?? id,
      correlationId: id,
      timestamp: Math.floor(Date.now() / 1000),
      contentType: binding.encoding === "json" ? JSON_TYPE : PROTOBUF,
      type: input.fullName,
      appId: "protogate",
      headers: {
        ...binding.headers,
        ...claims,
        "x-request-id": req.id,
        "x-grpc-method": route.method.path,
        ...(header(req, "traceparent") ? { traceparent: header(req, "traceparent") } : {}),
      },
    };
    if (binding.mode === "rpc") return this.rpc(route, broker, binding, key, content, props);

    const op: Operation = {
      name: `operations/${id}`,
      done: false,
      metadata: {
        "@type": typeUrlOf("google.protobuf.Struct"),
        value: { method: route.method.fullName, createTime: new Date().toISOString() },
      },
      ...(owner === undefined ? {} : { owner }),
    };
    const idempotencyKey = given ? scopedKey(route.method.fullName, given, owner) : undefined;
    const created = await this.operations.create(op, idempotencyKey).catch((err: unknown) => {
      throw new GatewayError(
        Code.UNAVAILABLE,
        `the operation store is unavailable: ${(err as Error).message}`,
        { headers: { "retry-after": "1" } },
      );
    });
    if (!created.existing) {
      try {
        await broker.publish(
          binding.exchange,
          key,
          content,
          { ...props, persistent: true },
          Date.now() + this.config.confirmTimeoutMs,
        );
      } catch (err) {
        // never a 202, nor an operation, for a message the broker did not take
        await this.operations.discard(id, idempotencyKey).catch(() => undefined);
        throw err;
      }
    }
    return accepted(created.op);
  }

  private async rpc(
    route: Route,
    broker: Broker,
    binding: AmqpBinding,
    key: string,
    content: Buffer,
    props: amqp.Options.Publish,
  ): Promise<AmqpAnswer> {
    const reply = await broker.call(binding.exchange, key, content, props, binding.timeoutMs);
    const result = this.decodeResult(route.method.output, reply);
    if ("error" in result) {
      throw new GatewayError(result.error.code as Code, result.error.message, {
        details: result.error.details as never,
      });
    }
    return {
      status: 200,
      headers: {},
      contentType: JSON_TYPE,
      body: JSON.stringify(messageToJson(route.method.output, result.msg, route.write)),
    };
  }

  /** A worker's result: recorded on its operation, decoded with the method's output type. */
  private async record(m: amqp.ConsumeMessage): Promise<void> {
    const id = String(m.properties.correlationId ?? "");
    const op = id ? await this.operations.get(id) : undefined;
    if (!op) return; // unknown or expired: nothing to record (acked, not requeued forever)
    if (m.properties.headers?.["x-progress"] === true || m.properties.headers?.["x-progress"] === "true") {
      // a progress report: any JSON, shown in the operation's metadata until the result comes
      try {
        await this.operations.progress(id, JSON.parse(m.content.toString()));
      } catch {
        // not JSON: nothing to record
      }
      return;
    }
    const config = this.current();
    const method = config.registry.methods.find((x) => x.fullName === op.metadata.value.method);
    if (!method) return;
    let result: Pick<Operation, "error" | "response">;
    try {
      const decoded = this.decodeResult(method.output, m);
      result =
        "error" in decoded
          ? { error: decoded.error }
          : {
              response: {
                "@type": typeUrlOf(method.output.fullName),
                ...(messageToJson(method.output, decoded.msg, {
                  emitUnpopulated: false,
                  useProtoNames: false,
                  enumsAsNumbers: false,
                  resolve: config.registry.findMessage,
                }) as object),
              },
            };
    } catch (err) {
      result = {
        error: {
          code: 13,
          message: `the worker's result could not be decoded: ${(err as Error).message}`,
          details: [],
        },
      };
    }
    await this.operations.complete(id, result);
  }

  /** A result or reply: the output message, or a google.rpc.Status when its `type` says so. */
  private decodeResult(
    output: MessageInfo,
    m: amqp.ConsumeMessage,
  ): { msg: Msg } | { error: { code: number; message: string; details: unknown[] } } {
    const config = this.current();
    const json = (m.properties.contentType ?? "").includes("json");
    const read = { ignoreUnknownFields: true, resolve: config.registry.findMessage };
    if (m.properties.type === STATUS_TYPE) {
      const status = config.registry.findMessage(STATUS_TYPE)!;
      const s = json
        ? messageFromJson(status, JSON.parse(m.content.toString()), "", read)
        : decodeMessage(status, m.content);
      const j = messageToJson(status, s, {
        emitUnpopulated: false,
        useProtoNames: false,
        enumsAsNumbers: false,
        resolve: config.registry.findMessage,
      }) as {
        code?: number;
        message?: string;
        details?: unknown[];
      };
      return { error: { code: j.code ?? 2, message: j.message ?? "", details: j.details ?? [] } };
    }
    return {
      msg: json
        ? messageFromJson(output, JSON.parse(m.content.toString()), "", read)
        : decodeMessage(output, m.content),
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.brokers.values()].map((b) => b.close()));
    await this.operations.close();
  }
}

function accepted(op: Operation): AmqpAnswer {
  return {
    status: 202,
    headers: { location: `/v1/${op.name}` },
    contentType: JSON_TYPE,
    body: served(op),
  };
}

/**
 * An Idempotency-Key is the caller's own: two callers sending "abc" get two operations. Anonymous keys
 * are "method:key" (a method name has a dot before any colon); an owner's are "owner:\"owner\":method:key"
 * (JSON quotes the owner), so no key a client chooses can land in another caller's space.
 */
function scopedKey(method: string, given: string, owner: string | undefined): string {
  return owner === undefined ? `${method}:${given}` : `owner:${JSON.stringify(owner)}:${method}:${given}`;
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s && /^[\x21-\x7e]{1,200}$/.test(s) ? s : undefined;
}

/** `orders.{region}.create` with the request's fields (dotted proto names); unset fields give "". */
export function routingKey(template: string, msg: Msg): string {
  return template.replace(/\{([A-Za-z_][\w.]*)\}/g, (_, path: string) => {
    let value: unknown = msg;
    for (const part of path.split(".")) value = (value as Msg | undefined)?.[part];
    return value === undefined || typeof value === "object" ? "" : String(value);
  });
}
