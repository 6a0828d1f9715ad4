import * as amqp from "amqplib";
import { Code } from "../../errors/code.js";
import { GatewayError } from "../../errors/gateway-error.js";
import { amqpPending, amqpPublishes } from "../../observability/metrics.js";

/**
 * One connection to one broker, shared by every route bound to it (RabbitMQ's guidance: few
 * connections, channels reused). amqplib's recovery reconnects with backoff and jitter; on every
 * (re)connect, `setup` opens the confirm channel, re-declares the exchanges and re-attaches consumers.
 *
 * publish() resolves only when the broker has confirmed the message (basic.ack) and did not return it
 * (basic.return with `mandatory`: no queue took it). If the connection drops before the confirm, the
 * same message (same message id) is published again on the new connection until the deadline: consumers
 * must tolerate duplicates (at-least-once).
 */

const DIRECT_REPLY_TO = "amq.rabbitmq.reply-to";

/** A worker's result for an operation; resolve to ack it, reject to have it redelivered. */
export type ResultHandler = (message: amqp.ConsumeMessage) => Promise<void>;

interface Pending {
  resolve: (m: amqp.ConsumeMessage) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
}

export class Broker {
  private model: amqp.RecoveringChannelModel | undefined;
  private channel: amqp.ConfirmChannel | undefined;
  private blocked = false;
  private waiters: Array<() => void> = [];
  private readonly returned = new Set<string>();
  private readonly replies = new Map<string, Pending>();
  private readonly exchanges = new Map<string, string>();
  private closed = false;

  constructor(
    readonly name: string,
    private readonly url: string,
    private readonly results:
      | { exchange: string; queue: string; queueArgs: Record<string, unknown>; handle: ResultHandler }
      | undefined,
    private readonly log: { info: (m: string) => void; warn: (m: string) => void },
  ) {}

  get connected(): boolean {
    return this.channel !== undefined;
  }

  async start(): Promise<void> {
    this.model = await amqp.connect(this.url, {
      // Shown by the management UI and `rabbitmqctl list_connections`: operators (and tests) can find ours.
      clientProperties: { connection_name: `protogate ${this.name} (pid ${process.pid})` },
      recovery: {
        initialDelay: 100,
        maxDelay: 5000,
        factor: 2,
        jitter: 0.3,
        waitForConnect: false,
        setup: (model: amqp.ChannelModel) => this.setup(model),
      },
    });
    this.model.on("disconnect", (err: Error) => this.lost(err));
    this.model.on("connect-failed", (err: Error) =>
      this.log.warn(`amqp ${this.name}: cannot connect: ${err.message}`),
    );
    this.model.on("blocked", (reason: string) => {
      this.blocked = true;
      this.log.warn(`amqp ${this.name}: connection blocked by the broker (${reason})`);
    });
    this.model.on("unblocked", () => {
      this.blocked = false;
    });
    this.model.on("error", (err: Error) => this.log.warn(`amqp ${this.name}: ${err.message}`));
  }

  /** Declares a durable exchange now (if connected) and after every reconnect. */
  async declareExchange(name: string, type: string): Promise<void> {
    if (this.exchanges.get(name) === type) return;
    this.exchanges.set(name, type);
    await this.channel?.assertExchange(name, type, { durable: true });
  }

  private async setup(model: amqp.ChannelModel): Promise<void> {
    const ch = await model.createConfirmChannel();
    ch.on("return", (m: amqp.Message) => {
      if (m.properties.correlationId) this.returned.add(String(m.properties.correlationId));
    });
    ch.on("error", (err: Error) => this.log.warn(`amqp ${this.name}: channel error: ${err.message}`));
    for (const [name, type] of this.exchanges) await ch.assertExchange(name, type, { durable: true });
    // Direct reply-to: consumed without acks on the channel that publishes the requests.
    await ch.consume(DIRECT_REPLY_TO, (m) => m && this.reply(m), { noAck: true });
    if (this.results) {
      const r = this.results;
      const rc = await model.createChannel();
      await rc.assertExchange(r.exchange, "topic", { durable: true });
      await rc.assertQueue(r.queue, { durable: true, arguments: r.queueArgs });
      await rc.bindQueue(r.queue, r.exchange, "#");
      await rc.prefetch(32);
      await rc.consume(r.queue, (m) => {
        if (!m) return;
        r.handle(m).then(
          () => rc.ack(m),
          () => rc.nack(m, false, true),
        );
      });
    }
    this.channel = ch;
    this.log.info(`amqp ${this.name}: connected`);
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w();
  }

  private lost(err: Error): void {
    this.channel = undefined;
    if (!this.closed)
      this.log.warn(`amqp ${this.name}: connection lost (${err?.message ?? "closed"}); reconnecting`);
    // Replies are at most once: an RPC whose reply channel is gone will not get it.
    for (const [id, p] of this.replies) {
      clearTimeout(p.timer);
      p.reject(unavailable(`the connection to broker "${this.name}" was lost before the reply came`));
      this.replies.delete(id);
    }
  }

  /** The confirm channel, waiting for a reconnect until the deadline. */
  private async ready(deadline: number): Promise<amqp.ConfirmChannel> {
    while (!this.channel) {
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) throw unavailable(`broker "${this.name}" is not reachable`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.channel;
  }

  /** Publishes and resolves once confirmed and routed; republishes across reconnects until the deadline. */
  async publish(
    exchange: string,
    key: string,
    content: Buffer,
    props: amqp.Options.Publish,
    deadline: number,
  ): Promise<void> {
    const id = String(props.correlationId);
    const pending = amqpPending.labels(this.name);
    pending.inc();
    try {
      await this.publishConfirmed(exchange, key, content, props, deadline, id);
    } finally {
      pending.dec();
    }
  }

  private async publishConfirmed(
    exchange: string,
    key: string,
    content: Buffer,
    props: amqp.Options.Publish,
    deadline: number,
    id: string,
  ): Promise<void> {
    const outcome = (o: string): void => amqpPublishes.inc({ broker: this.name, outcome: o });
    for (;;) {
      if (this.blocked) {
        outcome("blocked");
        throw unavailable(`broker "${this.name}" has blocked publishing (a resource alarm)`);
      }
      const ch = await this.ready(deadline);
      try {
        await withDeadline(
          new Promise<void>((resolve, reject) =>
            ch.publish(exchange, key, content, { ...props, mandatory: true }, (err) =>
              err ? reject(err) : resolve(),
            ),
          ),
          deadline,
        );
      } catch (err) {
        if (err instanceof GatewayError) {
          outcome("timed_out");
          throw err; // the deadline passed
        }
        if (this.channel !== ch && Date.now() < deadline) continue; // the connection dropped: publish again
        outcome("nacked");
        throw unavailable(`broker "${this.name}" did not accept the message (nack)`);
      }
      if (this.returned.delete(id)) {
        outcome("returned");
        throw new GatewayError(
          Code.UNAVAILABLE,
          `no queue is bound to exchange "${exchange}" for routing key "${key}": the message was returned`,
          {
            headers: { "retry-after": "5" },
          },
        );
      }
      outcome("confirmed");
      return;
    }
  }

  /** Request/reply over direct reply-to: publishes (confirmed, routed) and waits for the reply. */
  async call(
    exchange: string,
    key: string,
    content: Buffer,
    props: amqp.Options.Publish,
    timeoutMs: number,
  ): Promise<amqp.ConsumeMessage> {
    const id = String(props.correlationId);
    const deadline = Date.now() + timeoutMs;
    const reply = new Promise<amqp.ConsumeMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.replies.delete(id);
        reject(new GatewayError(Code.DEADLINE_EXCEEDED, `no reply from the worker within ${timeoutMs} ms`));
      }, timeoutMs);
      this.replies.set(id, { resolve, reject, timer });
    });
    reply.catch(() => undefined); // observed below; avoid an unhandled rejection if publish fails first
    try {
      await this.publish(exchange, key, content, { ...props, replyTo: DIRECT_REPLY_TO }, deadline);
    } catch (err) {
      const p = this.replies.get(id);
      if (p) clearTimeout(p.timer);
      this.replies.delete(id);
      throw err;
    }
    return reply;
  }

  private reply(m: amqp.ConsumeMessage): void {
    const id = String(m.properties.correlationId ?? "");
    const p = this.replies.get(id);
    if (!p) return; // late or unknown: replies are at most once
    clearTimeout(p.timer);
    this.replies.delete(id);
    p.resolve(m);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters) w();
    await this.model?.close().catch(() => undefined);
  }
}

function unavailable(message: string): GatewayError {
  return new GatewayError(Code.UNAVAILABLE, message, { headers: { "retry-after": "1" } });
}

function withDeadline<T>(p: Promise<T>, deadline: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(unavailable("the broker did not confirm the message in time")),
      Math.max(0, deadline - Date.now()),
    );
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
