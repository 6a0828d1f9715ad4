import cluster from "node:cluster";
import type { FastifyInstance, onRequestHookHandler } from "fastify";
import { AggregatorRegistry } from "prom-client";
import { metricsRegistry } from "./metrics.js";

/** IPC message a worker sends the primary to get the group's exposition (see cluster-metrics.ts). */
export const SCRAPE_REQUEST = "protogate:metrics-request";
export const SCRAPE_REPLY = "protogate:metrics-reply";

const SCRAPE_TIMEOUT_MS = 5000;

/**
 * `GET <path>` (default /metrics): the Prometheus text exposition. In a `--workers N` worker, the
 * primary aggregates every worker's metrics (prom-client's AggregatorRegistry), so that one scrape,
 * whichever worker takes it, gives the whole group; errors answer 503.
 */
export function registerMetricsRoute(app: FastifyInstance, path: string, guard?: onRequestHookHandler): void {
  // prom-client's worker side answers the primary's aggregator once an AggregatorRegistry exists here.
  if (cluster.isWorker) new AggregatorRegistry();
  app.get(path, guard ? { onRequest: guard } : {}, (_req, reply) => {
    scrape().then(
      (text) => reply.type(metricsRegistry.contentType).send(text),
      (err: Error) => reply.code(503).type("text/plain").send(`metrics unavailable: ${err.message}\n`),
    );
    return reply;
  });
}

let nextId = 0;
const waiting = new Map<number, (reply: { text?: string; error?: string }) => void>();

function scrape(): Promise<string> {
  if (!cluster.isWorker || !process.send) return metricsRegistry.metrics();
  if (waiting.size === 0) process.on("message", onReply);
  const id = nextId++;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => settle({ error: "the primary did not answer" }), SCRAPE_TIMEOUT_MS);
    const settle = (r: { text?: string; error?: string }): void => {
      clearTimeout(timer);
      waiting.delete(id);
      if (waiting.size === 0) process.off("message", onReply);
      if (r.text !== undefined) resolve(r.text);
      else reject(new Error(r.error ?? "no metrics"));
    };
    waiting.set(id, settle);
    process.send!({ type: SCRAPE_REQUEST, id });
  });
}

function onReply(msg: { type?: string; id?: number; text?: string; error?: string }): void {
  if (msg?.type === SCRAPE_REPLY && typeof msg.id === "number") waiting.get(msg.id)?.(msg);
}
