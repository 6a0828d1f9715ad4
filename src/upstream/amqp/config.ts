import { parseDurationMs } from "../../config/duration.js";
import { checkShape } from "../../config/schema-check.js";
import { amqpBindingsSchema, amqpSchema, type ENCODINGS, type EXCHANGE_TYPES, type MODES } from "./schema.js";

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
  readonly exchangeType: (typeof EXCHANGE_TYPES)[number];
  /** `orders.{region}.create`: fields of the request (dotted proto names) fill the braces. */
  readonly routingKey: string;
  readonly mode: (typeof MODES)[number];
  readonly encoding: (typeof ENCODINGS)[number];
  readonly headers: Readonly<Record<string, string>>;
  /** RPC: how long to wait for the reply. */
  readonly timeoutMs: number;
}

/** Reads the config file's `amqp:` (shape: amqpSchema); throws LoadError CONFIG_INVALID naming `where`. */
export function readAmqpConfig(v: unknown, where: string): AmqpConfig {
  const o = checkShape<{
    brokers?: Record<string, string>;
    operations?: {
      store?: AmqpConfig["operations"]["store"];
      redis?: { url?: string };
      ttl?: string | number;
      resultsExchange?: string;
      resultsQueue?: string;
    };
    confirmTimeout?: string | number;
  }>(amqpSchema, v, where);
  const ops = o.operations ?? {};
  return {
    brokers: o.brokers ?? { default: "amqp://guest:guest@127.0.0.1:5672" },
    operations: {
      store: ops.store ?? "memory",
      redisUrl: ops.redis?.url ?? "redis://127.0.0.1:6379",
      ttlMs: parseDurationMs(ops.ttl ?? "24h")!,
      resultsExchange: ops.resultsExchange ?? "protogate.results",
      resultsQueue: ops.resultsQueue ?? "protogate.results",
    },
    confirmTimeoutMs: parseDurationMs(o.confirmTimeout ?? "5s")!,
  };
}

type BindingEntry = Partial<Omit<AmqpBinding, "timeoutMs">> & { timeout?: string | number };

/** Reads a list of bindings (items: amqpBindingSchema); throws LoadError CONFIG_INVALID naming `where`. */
export function readAmqpBindings(v: unknown, where: string): AmqpBinding[] {
  return checkShape<BindingEntry[]>(amqpBindingsSchema, v, where).map((o) => ({
    selector: o.selector!,
    broker: o.broker ?? "default",
    exchange: o.exchange!,
    exchangeType: o.exchangeType ?? "topic",
    routingKey: o.routingKey ?? "",
    mode: o.mode ?? "command",
    encoding: o.encoding ?? "proto",
    headers: o.headers ?? {},
    timeoutMs: parseDurationMs(o.timeout ?? "10s")!,
  }));
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
