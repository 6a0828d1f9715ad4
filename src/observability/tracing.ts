import type { Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import type { GatewayOptions } from "../config/options.js";

/** A gateway's tracer and how to flush and stop its exporter. */
export interface Tracing {
  readonly tracer: Tracer;
  /** Exports what is buffered and stops the exporter (the gateway's close). */
  shutdown(): Promise<void>;
}

const byOptions = new WeakMap<GatewayOptions, Tracing | null>();

/**
 * The OpenTelemetry SDK of one gateway, made on first use and shared by its server-span hooks and its
 * client-span interceptor (both are built from the same options object). Undefined when tracing is off:
 * `tracing.enabled` is not true, or `OTEL_SDK_DISABLED=true`. The provider is not registered globally,
 * so several gateways in one process (tests) keep their traces apart. Spans leave in batches over
 * OTLP/HTTP protobuf (`tracing.endpoint`, else `OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`, else
 * http://localhost:4318/v1/traces); sampling is parent-based with `tracing.sampleRatio` for new traces,
 * else the SDK reads `OTEL_TRACES_SAMPLER`.
 */
export function tracingFor(options: GatewayOptions): Tracing | undefined {
  let t = byOptions.get(options);
  if (t === undefined) {
    t = makeTracing(options);
    byOptions.set(options, t);
  }
  return t ?? undefined;
}

function makeTracing(options: GatewayOptions): Tracing | null {
  const config = options.tracing;
  if (config?.enabled !== true || process.env.OTEL_SDK_DISABLED === "true") return null;
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over the defaults.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: "protogate", [ATTR_SERVICE_VERSION]: VERSION }))
    .merge(detectResources({ detectors: [envDetector] }));
  const exporter = new OTLPTraceExporter(config.endpoint ? { url: config.endpoint } : {});
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(exporter)],
    ...(config.sampleRatio === undefined
      ? {}
      : { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }) }),
  });
  return {
    tracer: provider.getTracer("protogate", VERSION),
    shutdown: () => provider.shutdown(),
  };
}

const VERSION = "0.1.0";
