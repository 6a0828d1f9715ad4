import {
  AggregatorRegistry,
  Histogram,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from "prom-client";
import { describe, expect, it } from "vitest";
import { BoundHistogram } from "../../src/observability/histogram.js";
import { rng } from "../helpers/random.js";

/**
 * BoundHistogram against prom-client's own Histogram: the same observations must give the same
 * exposition (text and JSON, the latter being what `--workers` aggregates), whatever the values, label
 * sets and order. prom-client is the oracle; BoundHistogram only makes observe cheap.
 */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 1, 10];
const LABELS = ["method", "route"] as const;

function pair() {
  const ours = new Registry();
  const theirs = new Registry();
  const bound = new BoundHistogram({
    name: "t_seconds",
    help: "h",
    labelNames: LABELS,
    buckets: BUCKETS,
    registers: [ours],
  });
  const oracle = new Histogram({
    name: "t_seconds",
    help: "h",
    labelNames: LABELS,
    buckets: BUCKETS,
    registers: [theirs],
  });
  return { ours, theirs, bound, oracle };
}

/** What aggregation reads of the JSON form (prom-client adds `exemplar: null`, unused without exemplars). */
const samples = (json: MetricObjectWithValues<MetricValue<string> & { metricName?: string }>[]) =>
  json.map((m) => ({
    ...m,
    values: m.values.map(({ labels, value, metricName }) => ({ labels, value, metricName })),
  }));

const METHODS = ["GET", "POST"];
const ROUTES = ["/a", "/b/{x}", 'q"uote\\'];

describe("BoundHistogram", () => {
  it("exposes what prom-client's Histogram exposes for the same observations", async () => {
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(seed);
      const { ours, theirs, bound, oracle } = pair();
      for (let i = r.int(60); i > 0; i--) {
        const [method, route] = [r.pick(METHODS), r.pick(ROUTES)];
        // values on the bounds, at zero and in between
        const value = r.chance(0.3) ? r.pick([0, ...BUCKETS]) : r.next() * 20;
        bound.labels(method, route).observe(value);
        oracle.labels(method, route).observe(value);
      }
      expect(await ours.metrics(), `seed ${seed}`).toBe(await theirs.metrics());
      expect(samples(await ours.getMetricsAsJSON()), `seed ${seed}`).toEqual(
        samples(await theirs.getMetricsAsJSON()),
      );
    }
  });

  it("aggregates across workers as prom-client's Histogram does", async () => {
    const a = pair();
    const b = pair();
    for (const [p, v] of [
      [a, 0.003],
      [a, 2],
      [b, 0.003],
      [b, 0.2],
    ] as const) {
      p.bound.labels("GET", "/a").observe(v);
      p.oracle.labels("GET", "/a").observe(v);
    }
    const ours = AggregatorRegistry.aggregate([
      await a.ours.getMetricsAsJSON(),
      await b.ours.getMetricsAsJSON(),
    ]);
    const theirs = AggregatorRegistry.aggregate([
      await a.theirs.getMetricsAsJSON(),
      await b.theirs.getMetricsAsJSON(),
    ]);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it("forgets observations on reset, and bound children keep counting after it", async () => {
    const { ours, bound } = pair();
    const child = bound.labels("GET", "/a");
    child.observe(0.5);
    ours.resetMetrics();
    expect(await ours.metrics()).not.toContain("t_seconds_count");
    child.observe(0.02);
    expect(await ours.metrics()).toContain('t_seconds_count{method="GET",route="/a"} 1');
  });

  it.each([
    ["a bad metric name", { name: "1x", labelNames: [], buckets: [1] }, /metric name/],
    ["the reserved label le", { name: "x", labelNames: ["le"], buckets: [1] }, /label name/],
    ["buckets out of order", { name: "x", labelNames: [], buckets: [1, 1] }, /strictly increasing/],
    ["no bucket", { name: "x", labelNames: [], buckets: [] }, /strictly increasing/],
  ])("refuses %s", (_what, config, message) => {
    expect(() => new BoundHistogram({ help: "h", registers: [new Registry()], ...config })).toThrow(message);
  });

  it("refuses a wrong count of label values and a value that is not finite", () => {
    const { bound } = pair();
    expect(() => bound.labels("GET")).toThrow(/1 label values/);
    expect(() => bound.labels("GET", "/a").observe(Number.NaN)).toThrow(TypeError);
  });
});
