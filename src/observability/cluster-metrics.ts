import type { Worker } from "node:cluster";
import { AggregatorRegistry } from "prom-client";
import { SCRAPE_REPLY, SCRAPE_REQUEST } from "./metrics-route.js";

/**
 * In the `--workers N` primary: answers a worker's scrape request with the metrics of all workers,
 * aggregated by prom-client (counters and histograms summed; gauges as each declares). The workers
 * answer the aggregator from prom-client's default registry, where the gateway's metrics live.
 */
export function serveClusterMetrics(on: (listener: (worker: Worker, msg: unknown) => void) => void): void {
  const aggregator = new AggregatorRegistry();
  on((worker, msg) => {
    const m = msg as { type?: string; id?: number };
    if (m?.type !== SCRAPE_REQUEST) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: SCRAPE_REPLY, id: m.id, text }),
      (err: Error) => worker.send({ type: SCRAPE_REPLY, id: m.id, error: err.message }),
    );
  });
}
