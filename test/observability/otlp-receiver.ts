import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import protobuf from "protobufjs";

/**
 * A real OTLP/HTTP traces receiver for the tests: decodes the protobuf ExportTraceServiceRequest the
 * SDK's exporter posts to /v1/traces. The message definitions are the subset of
 * opentelemetry-proto (opentelemetry/proto/{collector/trace/v1,trace/v1,common/v1,resource/v1}) the
 * tests read, with the official field numbers; unknown fields are skipped by the decoder.
 */
const OTLP_PROTO = `
syntax = "proto3";
package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message InstrumentationScope { string name = 1; string version = 2; }
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  Status status = 15;
}
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
  }
}
`;
const Request = protobuf
  .parse(OTLP_PROTO, { keepCase: true })
  .root.lookupType("otlp.ExportTraceServiceRequest");

/** SpanKind and Status.code of OTLP. */
export const KIND = { SERVER: 2, CLIENT: 3 } as const;
export const STATUS = { UNSET: 0, OK: 1, ERROR: 2 } as const;

/** One received span, ids as lowercase hex, attributes as plain values. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean>;
  status: { code: number; message: string };
  resource: Record<string, string | number | boolean>;
  scope: string;
}

export interface OtlpReceiver {
  /** The traces URL to export to. */
  url: string;
  spans: ReceivedSpan[];
  /** Content types of the posts received. */
  contentTypes: string[];
  close(): Promise<void>;
}

type Kv = { key: string; value?: Record<string, unknown> };
const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString("hex");

function attributes(list: Kv[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    // int64 comes as a decimal string (toObject with longs: String)
    if (value?.int_value !== undefined) out[key] = Number(value.int_value);
    else
      out[key] = (value?.string_value ?? value?.bool_value ?? value?.double_value) as
        | string
        | number
        | boolean;
  }
  return out;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      contentTypes.push(String(req.headers["content-type"]));
      const decoded = Request.toObject(Request.decode(Buffer.concat(chunks)), { longs: String }) as {
        resource_spans?: Array<{
          resource?: { attributes?: Kv[] };
          scope_spans?: Array<{ scope?: { name: string }; spans?: Array<Record<string, unknown>> }>;
        }>;
      };
      for (const rs of decoded.resource_spans ?? []) {
        const resource = attributes(rs.resource?.attributes);
        for (const ss of rs.scope_spans ?? []) {
          for (const s of ss.spans ?? []) {
            const status = (s.status as { code?: number; message?: string } | undefined) ?? {};
            spans.push({
              traceId: hex(s.trace_id as Uint8Array),
              spanId: hex(s.span_id as Uint8Array),
              parentSpanId: hex(s.parent_span_id as Uint8Array),
              traceState: (s.trace_state as string) ?? "",
              name: s.name as string,
              kind: (s.kind as number) ?? 0,
              attributes: attributes(s.attributes as Kv[]),
              status: { code: status.code ?? 0, message: status.message ?? "" },
              resource,
              scope: ss.scope?.name ?? "",
            });
          }
        }
      }
      res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    contentTypes,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
