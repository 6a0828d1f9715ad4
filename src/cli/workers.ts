import cluster, { type Worker } from "node:cluster";
import { serveClusterMetrics } from "../observability/cluster-metrics.js";

/**
 * `protogate serve --workers N`: N gateway processes sharing one listening socket (node:cluster), to use
 * more than one core. The primary only supervises: it prints the ready line once, restarts a worker that
 * dies, and stops them all on SIGTERM/SIGINT. SIGHUP is passed to every worker (each reloads its config
 * file); SIGUSR2 restarts the workers one at a time (rollingRestart). Each worker loads protos and watches
 * files on its own; state kept in memory (memory rate limits, in-memory operations) is per worker: use
 * Redis for those.
 */
export async function supervise(workers: number): Promise<undefined> {
  let stopping = false;
  let announced = false;
  // Workers a rolling restart stops on purpose: their exit starts no other.
  const retiring = new Set<Worker>();
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
    if (stopping || retiring.delete(worker)) return;
    process.stderr.write(
      `protogate: worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`,
    );
    fork();
  });
  serveClusterMetrics((listener) => cluster.on("message", listener)); // one /metrics scrape for the group
  for (let i = 0; i < workers; i++) fork();
  function stop(code: number, signal: NodeJS.Signals = "SIGTERM"): void {
    stopping = true;
    // SIGTERM is each worker's shutdown sequence (readiness delay, drain); SIGINT drains at once.
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
    const check = setInterval(() => {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        clearInterval(check);
        process.exit(code);
      }
    }, 50);
  }
  process.once("SIGTERM", () => stop(0));
  process.once("SIGINT", () => stop(0, "SIGINT"));
  process.on("SIGHUP", () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGHUP");
  });
  let rolling: Promise<void> | undefined;
  process.on("SIGUSR2", () => {
    rolling ??= rollingRestart(fork, retiring, () => stopping).finally(() => (rolling = undefined));
  });
  return undefined;
}

/**
 * Replaces every worker, one at a time: a new worker is started and listening (it said "ready") before
 * the old one gets SIGTERM (its shutdown sequence), and the next starts only once the old has exited,
 * so that the shared socket always has at least N-1 workers, never zero. A new worker that exits before
 * it is ready stops the roll; the old one keeps serving.
 */
export async function rollingRestart(
  fork: () => Worker,
  retiring: Set<Worker>,
  stopping: () => boolean,
): Promise<void> {
  const old = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  process.stderr.write(`protogate: rolling restart of ${old.length} workers\n`);
  for (const w of old) {
    if (stopping()) return;
    const next = fork();
    const ready = await new Promise<boolean>((resolve) => {
      next.on("message", (m: { type?: string }) => m?.type === "ready" && resolve(true));
      next.once("exit", () => resolve(false));
    });
    if (!ready) {
      process.stderr.write("protogate: rolling restart stopped: a new worker did not start\n");
      return;
    }
    if (w.isDead()) continue;
    retiring.add(w);
    const gone = new Promise((resolve) => w.once("exit", resolve));
    w.process.kill("SIGTERM");
    await gone;
  }
  process.stderr.write("protogate: rolling restart done\n");
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
