import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeMessage, encodeMessage, type Msg } from "../../src/codec/index.js";
import { Code } from "../../src/errors/code.js";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { loadConfig } from "../../src/server/load-table.js";
import { renderResponse, UnrenderableAnswerError } from "../../src/transcode/response.js";
import { TEST_PROTOS } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

/**
 * Issue #20 points 5 and 6: what the backend answers, the gateway renders or blames on the backend.
 * A raw gRPC server (bytes in, bytes out) answers with messages protogate's encoder builds without
 * the JSON checks, so it can send what a JSON client never could.
 */

const config = loadConfig({ protos: [TEST_PROTOS] });
const registry = config.registry;
const kitchen = registry.findMessage("test.v1.Kitchen")!;
const encode = (name: string, msg: Msg): Buffer => encodeMessage(registry.findMessage(name)!, msg);
const any = (typeUrl: string, value: Uint8Array): Msg => ({ type_url: typeUrl, value });

const INNER = "type.googleapis.com/test.v1.Inner";
const KITCHEN = "type.googleapis.com/test.v1.Kitchen";
const BAD_TS: Msg = { seconds: 253402300800, nanos: 0 }; // 10000-01-01T00:00:00Z

/** name -> [answer (a Kitchen), field path the cause names]. */
const UNRENDERABLE: Record<string, [Msg, string]> = {
  "value-nan": [{ val: { number_value: Number.NaN } }, "val"],
  "value-infinity": [{ val: { number_value: Number.POSITIVE_INFINITY } }, "val"],
  "struct-infinity": [
    {
      st: {
        fields: new Map([["a", { struct_value: { fields: new Map([["b", { number_value: -Infinity }]]) } }]]),
      },
    },
    'st["a"]["b"]',
  ],
  "list-nan": [{ lv: { values: [{ number_value: 1 }, { number_value: Number.NaN }] } }, "lv[1]"],
  "timestamp-year-10000": [{ ts: BAD_TS }, "ts"],
  "timestamp-negative-nanos": [{ ts: { seconds: 0, nanos: -1 } }, "ts"],
  "duration-mixed-signs": [{ dur: { seconds: 1, nanos: -5 } }, "dur"],
  "field-mask-no-json-form": [{ mask: { paths: ["Bad_Path"] } }, "mask"],
  "any-unknown-type": [{ any: any("type.googleapis.com/acme.v1.Unknown", Buffer.from([8, 1])) }, "any"],
  "any-undecodable": [{ any: any(INNER, Buffer.from([0xff])) }, "any"],
  "timestamp-inside-any": [{ any: any(KITCHEN, encode("test.v1.Kitchen", { ts: BAD_TS })) }, "any.ts"],
  "value-in-repeated-any": [
    { rinner: [{}], any: any(KITCHEN, encode("test.v1.Kitchen", { val: { number_value: Number.NaN } })) },
    "any.val",
  ],
  "value-in-map": [
    { mi: new Map([[3, {}]]), st: { fields: new Map([["x", { number_value: Number.NaN }]]) } },
    'st["x"]',
  ],
};

describe("renderResponse: an answer without a JSON form is the backend's fault", () => {
  const route = config.table.routes.find((r) => r.template.source === "/v1/echo/{s}")!;
  it.each(Object.entries(UNRENDERABLE))(
    "%s: INTERNAL, the cause naming method and field",
    (_name, [msg, path]) => {
      let thrown: unknown;
      try {
        renderResponse(route, encodeMessage(kitchen, msg));
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(GatewayError);
      const err = thrown as GatewayError;
      expect(err.code).toBe(Code.INTERNAL);
      expect(err.message).toBe("the backend's answer cannot be rendered as JSON"); // nothing of the answer leaks
      expect(err.cause).toBeInstanceOf(UnrenderableAnswerError);
      const cause = err.cause as UnrenderableAnswerError;
      expect(cause.method).toBe("test.v1.EchoService.EchoGet");
      expect(cause.path).toBe(path);
      expect(cause.message).toContain(`field "${path}"`);
    },
  );

  it("prints only the response_body field (the rest may be unrenderable)", () => {
    const rb = config.table.routes.find((r) => r.template.source === "/v1/rs/{s}/inner")!;
    const answer = encodeMessage(kitchen, { inner: { child: {} }, val: { number_value: Number.NaN } });
    expect(() => renderResponse(rb, answer)).not.toThrow(); // only the response_body field is printed
  });
});

// ---- end to end: a raw gRPC backend ----

const raw = (path: string): grpc.MethodDefinition<Buffer, Buffer> => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: (b) => b,
  requestDeserialize: (b) => b,
  responseSerialize: (b) => b,
  responseDeserialize: (b) => b,
});

let server: grpc.Server;
let gw: RunningGateway;

/** google.rpc.Status with these details, for the Fail method. */
const statusDetails = (details: Msg[]): Buffer =>
  encode("google.rpc.Status", { code: 9, message: "not now", details });

const DETAILS: Record<string, Msg[]> = {
  "known-and-unknown": [
    any(
      "type.googleapis.com/google.rpc.ErrorInfo",
      encode("google.rpc.ErrorInfo", { reason: "R", domain: "d" }),
    ),
    any("type.googleapis.com/acme.v1.Unknown", Buffer.from([8, 1, 18, 1, 120])),
    any("type.googleapis.com/google.rpc.ErrorInfo", Buffer.from([0xff])), // known type, bytes that do not decode
    any(
      "type.googleapis.com/google.rpc.RetryInfo",
      encode("google.rpc.RetryInfo", { retry_delay: { seconds: 2 } }),
    ),
  ],
};

beforeAll(async () => {
  server = new grpc.Server();
  const service = {
    EchoGet: raw("/test.v1.EchoService/EchoGet"),
    Fail: raw("/test.v1.EchoService/Fail"),
  };
  server.addService(service, {
    EchoGet: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const s = decodeMessage(kitchen, call.request).s as string;
      const answer = UNRENDERABLE[s];
      cb(null, encodeMessage(kitchen, answer ? answer[0] : { s }));
    },
    Fail: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const reason = decodeMessage(registry.findMessage("test.v1.FailRequest")!, call.request)
        .reason as string;
      const trailers = new grpc.Metadata();
      trailers.set("grpc-status-details-bin", statusDetails(DETAILS[reason] ?? []));
      cb({ code: 9, details: "not now", metadata: trailers });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  gw = await startGateway({ backend: `127.0.0.1:${port}` });
});

afterAll(async () => {
  await gw?.close();
  server?.forceShutdown();
});

describe("end to end: unrenderable answers are 500 INTERNAL", () => {
  it("renders a normal answer", async () => {
    const res = await gw.call("GET", "/v1/echo/fine");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ s: "fine" });
  });

  it.each(Object.keys(UNRENDERABLE))("%s", async (name) => {
    const res = await gw.call("GET", `/v1/echo/${name}`);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      code: 13,
      message: "the backend's answer cannot be rendered as JSON",
      details: [],
    });
  });
});

describe("end to end: error details survive a detail of an unknown type", () => {
  it("keeps every detail that decodes and renders the others as @type + base64 value", async () => {
    const res = await gw.call("POST", "/v1/fail", { body: '{"reason":"known-and-unknown"}' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      code: 9,
      message: "not now",
      details: [
        { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "R", domain: "d" },
        {
          "@type": "type.googleapis.com/acme.v1.Unknown",
          value: Buffer.from([8, 1, 18, 1, 120]).toString("base64"),
        },
        { "@type": "type.googleapis.com/google.rpc.ErrorInfo", value: "/w==" },
        { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "2s" },
      ],
    });
  });
});
