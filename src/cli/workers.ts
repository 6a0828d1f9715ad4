import cluster from "node:cluster";
import { serveClusterMetrics } from "../observability/cluster-metrics.js";

/**
 * `protogate serve --workers N`: N gateway processes sharing one listening socket (node:cluster), to use
 * more than one core. The primary only supervises: it prints the ready line once, restarts a worker that
 * dies, and stops them all on SIGTERM/SIGINT. Each worker loads protos and watches files on its own;
 * state kept in memory (memory rate limits, in-memory operations) is per worker: use Redis for those.
 */
export async function supervise(workers: number): Promise<undefined> {
  let stopping = false;
  let announced = false;
  const fork = () => cluster.fork({ PROTOGATE_WORKER: "1" });
  cluster.on("message", (_worker, msg: { type?: string; url?: string; routes?: number }) => {
    // A worker that cannot serve (port in use, ...) has said why on stderr; the next one would fail alike.
    if (msg?.type === "fatal" && !stopping) stop(1);
    if (msg?.type === "ready" && !announced) {
      announced = true;
      process.stdout.write(`protogate listening on ${msg.url} (${msg.routes} routes, ${workers} workers)\n`);
    }
  });
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) return;
    process.stderr.write(
      `protogate: worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`,
    );
    fork();
  });
  serveClusterMetrics((listener) => cluster.on("message", listener)); // one /metrics scrape for the group
  for (let i = 0; i < workers; i++) fork();
  function stop(code: number): void {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill("SIGTERM");
    const check = setInterval(() => {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        clearInterval(check);
        process.exit(code);
      }
    }, 50);
  }
  process.once("SIGTERM", () => stop(0));
  process.once("SIGINT", () => stop(0));
  return undefined;
}

export const isWorker = (): boolean => cluster.isWorker && process.env.PROTOGATE_WORKER === "1";

/** In a worker: tells the primary that serving cannot start, so that it stops instead of restarting workers. */
export function reportFatal(): void {
  process.send?.({ type: "fatal" });
}

/** In a worker: tells the primary it is listening. */
export function reportReady(url: string, routes: number): void {
  process.send?.({ type: "ready", url, routes });
}
