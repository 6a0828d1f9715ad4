import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  formatTraceparent,
  parseTraceparent,
  validTracestate,
} from "../../src/observability/trace-context.js";
import { type EchoServer, startEchoServer } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

/** W3C trace context reaches gRPC backends even with tracing off; malformed headers are dropped. */
const T = "4bf92f3577b34da6a3ce929d0e0e4736";
const S = "00f067aa0ba902b7";

describe("parseTraceparent() (W3C Trace Context §3.2)", () => {
  it.each([
    [`00-${T}-${S}-01`, { traceId: T, spanId: S, flags: 1 }],
    [`00-${T}-${S}-00`, { traceId: T, spanId: S, flags: 0 }],
    [`01-${T}-${S}-03-future`, { traceId: T, spanId: S, flags: 3 }], // a later version may add fields
    [`00-${T}-${S}-01-extra`, undefined], // not on version 00
    [`ff-${T}-${S}-01`, undefined],
    [`00-${"0".repeat(32)}-${S}-01`, undefined],
    [`00-${T}-${"0".repeat(16)}-01`, undefined],
    [`00-${T.toUpperCase()}-${S}-01`, undefined],
    [`00-${T}-${S}-1`, undefined],
    [`00-${T.slice(1)}-${S}-01`, undefined],
    ["", undefined],
  ])("%s", (header, expected) => {
    expect(parseTraceparent(header)).toEqual(expected);
  });

  it("should format what it parses", () => {
    expect(formatTraceparent(T, S, 1)).toBe(`00-${T}-${S}-01`);
    expect(formatTraceparent(T, S, 0)).toBe(`00-${T}-${S}-00`);
  });
});

describe("validTracestate() (§3.3)", () => {
  it.each([
    ["congo=t61rcWkgMzE", true],
    ["rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", true],
    ["a@b=1, c=2", true],
    ["tenant1@vendor=x,,y=z", true],
    ["Upper=1", false],
    ["k=v=w", false],
    ["k=", false],
    ["=v", false],
    [Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(","), false],
    ["", false],
  ])("%s -> %s", (header, ok) => {
    expect(validTracestate(header) !== undefined).toBe(ok);
  });
});

describe("with tracing off", () => {
  let backend: EchoServer;
  let gw: RunningGateway;
  beforeAll(async () => {
    backend = await startEchoServer();
    gw = await startGateway({ backend: backend.address });
  });
  afterAll(async () => {
    await gw?.close();
    await backend?.close();
  });

  it("should forward a valid traceparent and tracestate to the backend unchanged", async () => {
    const headers = { traceparent: `00-${T}-${S}-01`, tracestate: "congo=t61rcWkgMzE" };
    expect((await gw.call("GET", "/v1/echo/tc", { headers })).status).toBe(200);
    expect(backend.last().metadata.traceparent).toEqual([headers.traceparent]);
    expect(backend.last().metadata.tracestate).toEqual([headers.tracestate]);
  });

  it("should drop a malformed traceparent (and the tracestate that goes with it), and invent none", async () => {
    await gw.call("GET", "/v1/echo/bad", { headers: { traceparent: "00-xyz-01", tracestate: "a=b" } });
    expect(backend.last().metadata).not.toHaveProperty("traceparent");
    expect(backend.last().metadata).not.toHaveProperty("tracestate");
    await gw.call("GET", "/v1/echo/none");
    expect(backend.last().metadata).not.toHaveProperty("traceparent");
  });

  it("should drop a malformed tracestate but keep the traceparent", async () => {
    await gw.call("GET", "/v1/echo/st", { headers: { traceparent: `00-${T}-${S}-00`, tracestate: "BAD" } });
    expect(backend.last().metadata.traceparent).toEqual([`00-${T}-${S}-00`]);
    expect(backend.last().metadata).not.toHaveProperty("tracestate");
  });
});
