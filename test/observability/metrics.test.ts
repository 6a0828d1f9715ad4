import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAuthConfig } from "../../src/policies/auth/config.js";
import { readRateLimitConfig } from "../../src/policies/rate-limit/config.js";
import { type EchoServer, startEchoServer } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { parseExposition, promtool, type Sample, sampleValue } from "./exposition.js";

/**
 * GET /metrics after a known set of requests: counts, labels and buckets, the policies' counters, and
 * that promtool accepts the exposition. Metrics live in the process (prom-client's default registry):
 * every assertion here is about this file's gateways only (vitest runs each file in its own context).
 */
const DURATION = "protogate_http_server_request_duration_seconds";
const UPSTREAM = "protogate_upstream_request_duration_seconds";

let backend: EchoServer;
let gw: RunningGateway;
let token: string;

beforeAll(async () => {
  backend = await startEchoServer();
  const keys = await generateKeyPair("ES256");
  token = await new SignJWT({ sub: "ann" })
    .setProtectedHeader({ alg: "ES256" })
    .setIssuer("https://issuer.test")
    .setExpirationTime("5m")
    .sign(keys.privateKey);
  gw = await startGateway({
    backend: backend.address,
    auth: readAuthConfig(
      {
        providers: [
          {
            issuer: "https://issuer.test",
            keys: [{ pem: await exportSPKI(keys.publicKey) }],
            algorithms: ["ES256"],
          },
        ],
        default: "public",
      },
      "auth",
    ),
    rateLimit: readRateLimitConfig({ store: "memory", default: [] }, "rateLimit"),
    methodSettings: {
      "test.v1.EchoService.EchoGet": { auth: { require: "authenticated" } },
      "test.v1.EchoService.EchoPrioLiteral": {
        rateLimit: readRateLimitConfig(
          { store: "memory", default: [{ name: "tight", key: ["ip"], rate: 2, per: "1h" }] },
          "x",
        ).default,
      },
    },
  });
});
afterAll(async () => {
  await gw?.close();
  await backend?.close();
});

async function scrape(): Promise<{ text: string; samples: Sample[] }> {
  const res = await gw.call("GET", "/metrics");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return { text: res.text, samples: parseExposition(res.text) };
}

describe("GET /metrics after known requests", () => {
  let text: string;
  let samples: Sample[];
  const bodies = ['{"s":"a"}', '{"s":"bbbb"}', '{"s":"cccccccc"}'];

  beforeAll(async () => {
    for (const body of bodies) expect((await gw.call("POST", "/v1/echo", { body })).status).toBe(200);
    expect((await gw.call("POST", "/v1/fail", { body: '{"code":14,"message":"down"}' })).status).toBe(503);
    expect((await gw.call("GET", "/no/such/path")).status).toBe(404);
    expect((await gw.call("DELETE", "/v1/echo")).status).toBe(405);
    expect((await gw.call("GET", "/v1/echo/x")).status).toBe(401); // no token
    expect(
      (await gw.call("GET", "/v1/echo/x", { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
    for (let i = 0; i < 3; i++) await gw.call("GET", "/v1/prio/special"); // 2 allowed, then 429
    ({ text, samples } = await scrape());
  });

  it("should count requests by method, route template, status and upstream outcome", () => {
    const count = (labels: Record<string, string>) => sampleValue(samples, `${DURATION}_count`, labels);
    expect(count({ method: "POST", route: "/v1/echo", status: "200", outcome: "OK" })).toBe(3);
    expect(count({ method: "POST", route: "/v1/fail", status: "503", outcome: "UNAVAILABLE" })).toBe(1);
    expect(count({ method: "GET", route: "_unmatched", status: "404", outcome: "none" })).toBe(1);
    expect(count({ method: "DELETE", route: "_unmatched", status: "405", outcome: "none" })).toBe(1);
    expect(count({ method: "GET", route: "/v1/echo/{s}", status: "401", outcome: "none" })).toBe(1);
    expect(count({ method: "GET", route: "/v1/echo/{s}", status: "200", outcome: "OK" })).toBe(1);
    expect(count({ method: "GET", route: "/v1/prio/special", status: "200", outcome: "OK" })).toBe(2);
    expect(count({ method: "GET", route: "/v1/prio/special", status: "429", outcome: "none" })).toBe(1);
    // no raw path anywhere
    expect(samples.some((s) => s.labels.route === "/no/such/path" || s.labels.route === "/v1/echo/x")).toBe(
      false,
    );
  });

  it("should use OpenTelemetry's advised buckets, in seconds, cumulative", () => {
    const buckets = samples.filter(
      (s) => s.name === `${DURATION}_bucket` && s.labels.route === "/v1/echo" && s.labels.status === "200",
    );
    expect(buckets.map((b) => b.labels.le)).toEqual([
      "0.005",
      "0.01",
      "0.025",
      "0.05",
      "0.075",
      "0.1",
      "0.25",
      "0.5",
      "0.75",
      "1",
      "2.5",
      "5",
      "7.5",
      "10",
      "+Inf",
    ]);
    expect(buckets.at(-1)!.value).toBe(3);
    for (let i = 1; i < buckets.length; i++)
      expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
    const sum = sampleValue(samples, `${DURATION}_sum`, { route: "/v1/echo", status: "200" })!;
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(30); // seconds, not milliseconds
  });

  it("should time upstream calls per backend, RPC method and code", () => {
    const count = (labels: Record<string, string>) => sampleValue(samples, `${UPSTREAM}_count`, labels);
    const common = { protocol: "grpc", backend: backend.address };
    expect(count({ ...common, rpc_method: "test.v1.EchoService/EchoAll", outcome: "OK" })).toBe(3);
    expect(count({ ...common, rpc_method: "test.v1.EchoService/Fail", outcome: "UNAVAILABLE" })).toBe(1);
    expect(count({ ...common, rpc_method: "test.v1.EchoService/EchoGet", outcome: "OK" })).toBe(1);
  });

  it("should measure body sizes in bytes and count the scrape in flight", () => {
    const reqSum = sampleValue(samples, "protogate_http_server_request_body_size_bytes_sum", {
      method: "POST",
      route: "/v1/echo",
    });
    expect(reqSum).toBe(bodies.reduce((n, b) => n + b.length, 0));
    const resCount = sampleValue(samples, "protogate_http_server_response_body_size_bytes_count", {
      method: "POST",
      route: "/v1/echo",
    });
    expect(resCount).toBe(3);
    expect(
      sampleValue(samples, "protogate_http_server_response_body_size_bytes_sum", { route: "/v1/echo" }),
    ).toBeGreaterThan(0);
    expect(sampleValue(samples, "protogate_http_server_active_requests")).toBe(1); // this scrape
  });

  it("should count auth outcomes and rate-limit decisions", () => {
    expect(sampleValue(samples, "protogate_auth_decisions_total", { outcome: "rejected" })).toBe(1);
    expect(sampleValue(samples, "protogate_auth_decisions_total", { outcome: "authenticated" })).toBe(1);
    // public routes without a token: 3 POST /v1/echo, 1 /v1/fail, 3 /v1/prio/special
    expect(sampleValue(samples, "protogate_auth_decisions_total", { outcome: "anonymous" })).toBe(7);
    expect(sampleValue(samples, "protogate_rate_limit_decisions_total", { decision: "allowed" })).toBe(2);
    expect(sampleValue(samples, "protogate_rate_limit_decisions_total", { decision: "limited" })).toBe(1);
  });

  it("should show the configuration's generation and Node's default metrics", () => {
    expect(sampleValue(samples, "protogate_config_generation")).toBe(1);
    expect(sampleValue(samples, "protogate_config_last_reload_success")).toBe(1);
    expect(sampleValue(samples, "protogate_config_routes")).toBeGreaterThan(10);
    expect(sampleValue(samples, "process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(samples.some((s) => s.name === "nodejs_eventloop_lag_seconds")).toBe(true);
  });

  it("should be accepted by promtool check metrics", () => {
    // promtool parses the whole exposition; its only lint findings are prom-client's own default
    // gauges named *_total (nodejs_active_handles_total...), which Node dashboards expect by those names.
    const r = promtool(text);
    const findings = r.output.split("\n").filter((l) => l !== "");
    expect(findings.every((l) => /^nodejs_active_\w+_total non-counter metrics/.test(l))).toBe(true);
    expect(r.status === 0 || findings.length > 0).toBe(true);
    // the gateway's own metrics alone pass with no finding
    const own = text
      .split("\n")
      .filter((l) => !/^(# (HELP|TYPE) )?(nodejs_|process_)/.test(l))
      .join("\n");
    expect(promtool(own)).toEqual({ status: 0, output: "" });
  });
});

describe("cardinality", () => {
  it("should add no series for 10,000 distinct URLs beyond _unmatched", { timeout: 180_000 }, async () => {
    const keyOf = (s: Sample) => JSON.stringify({ n: s.name, l: s.labels });
    await gw.call("GET", "/a/miss"); // the miss's series, and the scrape's own, exist before
    await scrape();
    const before = new Set((await scrape()).samples.map(keyOf));
    const app = gw.gateway.app;
    // 9,000 misses and 1,000 distinct paths of one rule (`/v1/prio/{s=**}`), 100 at a time
    for (let i = 0; i < 10_000; i += 100) {
      const urls = Array.from({ length: 100 }, (_, j) =>
        i < 9000 ? `/random/${i + j}/x?q=${i + j}` : `/v1/prio/deep/${i + j}/y`,
      );
      const codes = await Promise.all(
        urls.map(async (url) => (await app.inject({ method: "GET", url })).statusCode),
      );
      expect(new Set(codes)).toEqual(new Set([i < 9000 ? 404 : 200]));
    }
    const added = (await scrape()).samples.filter(
      (s) => s.name.startsWith("protogate_http_server_") && !before.has(keyOf(s)),
    );
    // the rule's first requests open its series; the misses' series existed already (the 404 above)
    expect(new Set(added.map((s) => s.labels.route))).toEqual(new Set(["/v1/prio/{s=**}"]));
    expect(added.length).toBeLessThan(50);
  });
});
