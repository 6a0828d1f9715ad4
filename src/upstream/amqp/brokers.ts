import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type * as amqp from "amqplib";
import { Code } from "../../errors/code.js";
import { GatewayError } from "../../errors/gateway-error.js";
import type { ProtoRegistry } from "../../registry/registry.js";
import { Broker } from "./broker.js";
import type { AmqpBinding, AmqpConfig } from "./config.js";
import { MemoryOperations, type OperationStore, RedisOperations } from "./operations.js";
import { recordResult } from "./results.js";

/**
 * The gateway's RabbitMQ side: one connection per configured broker, the operation store, and the
 * consumer of workers' results. `registry` gives the protos in force (results are decoded with the
 * output type of the method that started the operation, even across a reload).
 */
export class AmqpBrokers {
  private readonly brokers = new Map<string, Broker>();
  readonly operations: OperationStore;
  /** How long to wait for a broker's publisher confirm, ms. */
  readonly confirmTimeoutMs: number;

  constructor(
    config: AmqpConfig,
    registry: () => ProtoRegistry,
    log: { info: (m: string) => void; warn: (m: string) => void },
  ) {
    this.confirmTimeoutMs = config.confirmTimeoutMs;
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
        handle: (m: amqp.ConsumeMessage) => recordResult(m, this.operations, registry()),
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

  /** The binding's broker with its exchange declared; UNAVAILABLE for a broker that is not configured. */
  async ready(binding: AmqpBinding): Promise<Broker> {
    const broker = this.brokers.get(binding.broker);
    if (!broker)
      throw new GatewayError(Code.UNAVAILABLE, `no AMQP broker named "${binding.broker}" is configured`);
    await broker.declareExchange(binding.exchange, binding.exchangeType);
    return broker;
  }

  async close(): Promise<void> {
    await Promise.all([...this.brokers.values()].map((b) => b.close()));
    await this.operations.close();
  }
}
