import { parseDurationMs } from "../../config/duration.js";
import { LoadError } from "../../config/load-error.js";
import { asObject, onlyKeys, optString, stringMap } from "../../config/validate.js";

/** Config file `amqp:`: brokers and where operations are kept. */
export interface AmqpConfig {
  /** Broker URLs by name; "default" is used by bindings that name none. */
  readonly brokers: Readonly<Record<string, string>>;
  readonly operations: {
    readonly store: "memory" | "redis";
    readonly redisUrl: string;
    /** How long an operation (and an Idempotency-Key) is kept. */
    readonly ttlMs: number;
    /** Workers publish results here with the operation id as correlation_id. */
    readonly resultsExchange: string;
    readonly resultsQueue: string;
  };
  /** How long to wait for the broker's confirm (and, across a reconnect, to republish). */
  readonly confirmTimeoutMs: number;
}

/** Mapping file `amqp: bindings:` — a method sent to a broker instead of a gRPC backend. */
export interface AmqpBinding {
  readonly selector: string;
  readonly broker: string;
  readonly exchange: string;
  readonly exchangeType: "topic" | "direct" | "fanout" | "headers";
  /** `orders.{region}.create`: fields of the request (dotted proto names) fill the braces. */
  readonly routingKey: string;
  readonly mode: "command" | "rpc";
  readonly encoding: "proto" | "json";
  readonly headers: Readonly<Record<string, string>>;
  /** RPC: how long to wait for the reply. */
  readonly timeoutMs: number;
}

export function readAmqpConfig(v: unknown, where: string): AmqpConfig {
  const o = asObject(v, where);
  onlyKeys(o, ["brokers", "operations", "confirmTimeout"], where);
  const ops = asObject(o.operations ?? {}, `${where}.operations`);
  onlyKeys(ops, ["store", "redis", "ttl", "resultsExchange", "resultsQueue"], `${where}.operations`);
  const store = ops.store ?? "memory";
  if (store !== "memory" && store !== "redis")
    throw new LoadError("CONFIG_INVALID", `${where}.operations.store`, 'expected "memory" or "redis"');
  const redis = asObject(ops.redis ?? {}, `${where}.operations.redis`);
  const ttl = parseDurationMs(ops.ttl ?? "24h");
  if (!ttl)
    throw new LoadError("CONFIG_INVALID", `${where}.operations.ttl`, 'expected a duration such as "24h"');
  const confirm = parseDurationMs(o.confirmTimeout ?? "5s");
  if (!confirm)
    throw new LoadError("CONFIG_INVALID", `${where}.confirmTimeout`, 'expected a duration such as "5s"');
  return {
    brokers:
      o.brokers === undefined
        ? { default: "amqp://guest:guest@127.0.0.1:5672" }
        : stringMap(o.brokers, `${where}.brokers`),
    operations: {
      store,
      redisUrl: optString(redis, "url", `${where}.operations.redis`) ?? "redis://127.0.0.1:6379",
      ttlMs: ttl,
      resultsExchange: optString(ops, "resultsExchange", `${where}.operations`) ?? "protogate.results",
      resultsQueue: optString(ops, "resultsQueue", `${where}.operations`) ?? "protogate.results",
    },
    confirmTimeoutMs: confirm,
  };
}

export function readAmqpBindings(v: unknown, where: string): AmqpBinding[] {
  if (!Array.isArray(v)) throw new LoadError("CONFIG_INVALID", where, "expected a list of bindings");
  return v.map((b, i) => {
    const at = `${where}[${i}]`;
    const o = asObject(b, at);
    onlyKeys(
      o,
      [
        "selector",
        "broker",
        "exchange",
        "exchangeType",
        "routingKey",
        "mode",
        "encoding",
        "headers",
        "timeout",
      ],
      at,
    );
    const selector = optString(o, "selector", at);
    const exchange = optString(o, "exchange", at);
    if (!selector || !exchange)
      throw new LoadError("CONFIG_INVALID", at, "a binding needs a selector and an exchange");
    const oneOf = <T extends string>(key: string, values: readonly T[], dflt: T): T => {
      const x = o[key] ?? dflt;
      if (!values.includes(x as T))
        throw new LoadError("CONFIG_INVALID", `${at}.${key}`, `expected one of ${values.join(", ")}`);
      return x as T;
    };
    const timeout = parseDurationMs(o.timeout ?? "10s");
    if (!timeout) throw new LoadError("CONFIG_INVALID", `${at}.timeout`, 'expected a duration such as "10s"');
    return {
      selector,
      broker: optString(o, "broker", at) ?? "default",
      exchange,
      exchangeType: oneOf("exchangeType", ["topic", "direct", "fanout", "headers"] as const, "topic"),
      routingKey: typeof o.routingKey === "string" ? o.routingKey : "",
      mode: oneOf("mode", ["command", "rpc"] as const, "command"),
      encoding: oneOf("encoding", ["proto", "json"] as const, "proto"),
      headers: o.headers === undefined ? {} : stringMap(o.headers, `${at}.headers`),
      timeoutMs: timeout,
    };
  });
}

/** A method's (protogate.v1.amqp) option as a binding (same checks as a mapping-file entry). */
export function bindingFromOption(selector: string, o: Record<string, unknown>): AmqpBinding {
  const text = (k: string) => (typeof o[k] === "string" && o[k] !== "" ? (o[k] as string) : undefined);
  const entry: Record<string, unknown> = { selector };
  const keys: Array<[string, string]> = [
    ["broker", "broker"],
    ["exchange", "exchange"],
    ["exchange_type", "exchangeType"],
    ["routing_key", "routingKey"],
    ["mode", "mode"],
    ["encoding", "encoding"],
    ["timeout", "timeout"],
  ];
  for (const [from, to] of keys) if (text(from)) entry[to] = text(from);
  if (o.headers && typeof o.headers === "object") entry.headers = headerMap(o.headers);
  return readAmqpBindings([entry], `${selector} (protogate.v1.amqp)`)[0]!;
}

/** A map option: from option text protobufjs gives `{key, value}` entries; from a descriptor, an object. */
function headerMap(v: object): Record<string, unknown> {
  const entries = ([] as unknown[]).concat(v);
  if (entries.every((e) => e && typeof e === "object" && "key" in e)) {
    return Object.fromEntries(
      entries.map((e) => [String((e as { key: unknown }).key), (e as { value: unknown }).value]),
    );
  }
  return v as Record<string, unknown>;
}
