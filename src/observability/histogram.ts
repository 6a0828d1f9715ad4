import { register as defaultRegistry, type Metric, type Registry } from "prom-client";

/** A bound series of a histogram: `observe(v)` adds one value (in the histogram's unit). */
export interface HistogramChild {
  /** Adds one value; throws TypeError when `value` is not a finite number (as prom-client does). */
  observe(value: number): void;
}

/** A label set's data: counts per bucket (not cumulative; the last slot is +Inf), sum and count. */
interface Series {
  readonly labels: Record<string, string>;
  readonly counts: Float64Array;
  sum: number;
  count: number;
  /** In the exposition: false after a reset until the next observation. */
  listed: boolean;
}

/** One exported sample, in prom-client's `MetricObjectWithValues` value shape. */
interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * A Prometheus histogram for the request path, registered in prom-client's registry (so `/metrics`,
 * `promtool`, the default metrics and `--workers` aggregation see it as one of prom-client's own, type
 * `histogram`, aggregator `sum`) but whose bound children observe in tens of nanoseconds. prom-client's
 * own `Histogram#labels(...).observe()` validates and hashes the label set on every call, about 2 us
 * each (bench/README.md): four of those per request were a tenth of a request's CPU.
 *
 * Exposition as prom-client writes a histogram (Prometheus text format 0.0.4): per label set, one
 * cumulative `_bucket` sample per upper bound (`le`, the bound as a number, then `+Inf`), `_sum` and
 * `_count`. Children are bound once per label set by `labels()`; hold them, do not call `labels()` per
 * observation. Throws TypeError at construction for a bad name, label name (`le` is reserved) or bucket
 * list (finite, strictly increasing, at least one).
 */
export class BoundHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly name: string;
  readonly help: string;
  private readonly labelNames: readonly string[];
  private readonly bounds: Float64Array;
  private readonly children = new Map<string, HistogramChild>();
  // label sets in the exposition, in first-observation order
  private readonly listed: Series[] = [];

  constructor(config: {
    name: string;
    help: string;
    labelNames: readonly string[];
    /** Upper bounds, strictly increasing; +Inf is implied. */
    buckets: readonly number[];
    /** Registries to join; default prom-client's default registry. */
    registers?: Registry[];
  }) {
    const { name, help, labelNames, buckets } = config;
    if (!NAME.test(name)) throw new TypeError(`histogram name "${name}" is not a Prometheus metric name`);
    for (const l of labelNames)
      if (!LABEL.test(l) || l === "le" || l.startsWith("__"))
        throw new TypeError(`histogram ${name}: "${l}" may not be a label name`);
    if (
      buckets.length === 0 ||
      buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))
    )
      throw new TypeError(`histogram ${name}: buckets must be finite and strictly increasing`);
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
    this.bounds = Float64Array.from(buckets);
    for (const r of config.registers ?? [defaultRegistry]) r.registerMetric(this as unknown as Metric);
  }

  /**
   * The child of one label set, values in `labelNames` order. Throws TypeError when the count of
   * values differs from the label names'.
   */
  labels(...values: string[]): HistogramChild {
    if (values.length !== this.labelNames.length)
      throw new TypeError(
        `histogram ${this.name}: ${values.length} label values for labels ${this.labelNames.join(", ")}`,
      );
    const key = values.join("\u0000");
    let child = this.children.get(key);
    if (child) return child;
    const labels: Record<string, string> = {};
    this.labelNames.forEach((l, i) => {
      labels[l] = values[i]!;
    });
    const s: Series = {
      labels,
      counts: new Float64Array(this.bounds.length + 1),
      sum: 0,
      count: 0,
      listed: false,
    };
    const bounds = this.bounds;
    const n = bounds.length;
    const listed = this.listed;
    child = {
      observe(value: number): void {
        if (!Number.isFinite(value)) throw new TypeError(`histogram value is not a finite number: ${value}`);
        let i = 0;
        while (i < n && value > bounds[i]!) i++;
        s.counts[i]!++;
        s.sum += value;
        s.count++;
        if (!s.listed) {
          s.listed = true;
          listed.push(s);
        }
      },
    };
    this.children.set(key, child);
    return child;
  }

  /** The samples, for prom-client's registry (exposition and cluster aggregation). */
  async get(): Promise<{
    name: string;
    help: string;
    type: "histogram";
    aggregator: "sum";
    values: Sample[];
  }> {
    const values: Sample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.listed) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.counts[i]!;
        values.push({ labels: { le: this.bounds[i]!, ...s.labels }, value: acc, metricName: bucket });
      }
      values.push({ labels: { le: "+Inf", ...s.labels }, value: s.count, metricName: bucket });
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Forgets every observation (prom-client's `register.resetMetrics()`); bound children stay usable. */
  reset(): void {
    for (const s of this.listed) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
      s.listed = false;
    }
    this.listed.length = 0;
  }
}
