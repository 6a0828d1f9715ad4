import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { readAuthConfig } from "../../src/policies/auth/config.js";
import { readCorsConfig } from "../../src/policies/cors.js";
import { readLimits, readRateLimitConfig } from "../../src/policies/rate-limit/config.js";
import { createGateway, type Gateway } from "../../src/server/gateway.js";
import { STREAM_PROTOS, type StreamServer, startStreamServer } from "./server.js";

// WebSocket upgrades pass the same edge policies as HTTP requests to the route (issue #14 item 6):
// IP filter, CORS origin, JWT auth with forwarded claims, rate limit; refusals are HTTP answers
// before the 101. One gateway with all of them, a real `ws` client, the grpc-js streaming backend.

const ISSUER = "https://issuer.test";
const ORIGIN = "https://app.example.com";
let keys: Awaited<ReturnType<typeof generateKeyPair>>;
let backend: StreamServer;
let gateway: Gateway;
let wsUrl: string;
let httpUrl: string;
const jwks = createServer(async (_req, res) => {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: "k1", alg: "RS256" }] }));
});

const token = () =>
  new SignJWT({ sub: "user-1" })
    .setProtectedHeader({ alg: "RS256", kid: "k1" })
    .setIssuer(ISSUER)
    .setAudience("api")
    .setExpirationTime("5m")
    .sign(keys.privateKey);

beforeAll(async () => {
  keys = await generateKeyPair("RS256");
  await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", r));
  backend = await startStreamServer();
  gateway = await createGateway({
    protos: [STREAM_PROTOS],
    port: 0,
    logLevel: false,
    defaultBackend: backend.address,
    trustProxy: true, // the tests choose their client address with X-Forwarded-For
    ipFilter: { allow: [], deny: ["203.0.113.0/24"] },
    cors: readCorsConfig({ origins: [ORIGIN] }, "cors"),
    auth: readAuthConfig(
      {
        providers: [
          {
            issuer: ISSUER,
            audiences: ["api"],
            jwksUri: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
            algorithms: ["RS256"],
            forwardClaims: { sub: "x-user-id" },
          },
        ],
        default: "authenticated",
      },
      "auth",
    ),
    rateLimit: readRateLimitConfig({}, "rateLimit"),
    methodSettings: {
      "streamtest.v1.Streams.Watch": {
        rateLimit: readLimits([{ name: "ws", key: ["ip"], rate: 2, per: "1h" }], "x"),
      },
    },
  });
  httpUrl = await gateway.listen();
  wsUrl = httpUrl.replace(/^http/, "ws");
});
afterAll(async () => {
  await gateway?.close();
  await backend?.close();
  jwks.close();
});

/** An opened WebSocket (status 101, `ws` set) or the HTTP answer that refused the upgrade (`body`). */
interface Opened {
  status: number;
  headers: IncomingHttpHeaders;
  ws?: WebSocket;
  body?: unknown;
}

/** Opens a WebSocket; a refused upgrade resolves to the HTTP answer the gateway gave instead. */
function open(path: string, headers: Record<string, string> = {}): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl + path, { headers });
    ws.on("upgrade", (res) => ws.once("open", () => resolve({ status: 101, ws, headers: res.headers })));
    ws.on("unexpected-response", (_req, res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }),
      );
    });
    ws.on("error", reject);
  });
}

/** Sends `messages`, half-closes, and collects every frame until the close. */
function session(ws: WebSocket, messages: string[]): Promise<{ frames: string[]; code: number }> {
  const frames: string[] = [];
  ws.on("message", (m) => frames.push(String(m)));
  const closed = new Promise<{ frames: string[]; code: number }>((resolve) =>
    ws.on("close", (code) => resolve({ frames, code })),
  );
  for (const m of messages) ws.send(m);
  ws.send("");
  return closed;
}

const from = (ip: string) => ({ "x-forwarded-for": ip });

describe("WebSocket upgrades through the edge policies", () => {
  it("should open the stream with a valid token and forward its claims to the backend", async () => {
    const opened = await open("/v1/chat", {
      ...from("192.0.2.1"),
      authorization: `Bearer ${await token()}`,
      "grpc-metadata-x-user-id": "admin", // a spoofed claim: dropped, the token's wins
      "x-request-id": "ws-req-1",
    });
    expect(opened.status).toBe(101);
    expect(opened.headers["x-request-id"]).toBe("ws-req-1");
    const { frames, code } = await session(opened.ws!, ['{"name":"one"}']);
    expect(code).toBe(1000);
    expect(frames).toEqual(['{"name":"re: one","qty":1}', '{"end":{"trailers":{}}}']);
    const md = backend.lastMetadata()!;
    expect(md.get("x-user-id")).toEqual(["user-1"]);
    expect(md.get("x-request-id")).toEqual(["ws-req-1"]);
  });

  it("should answer 401 with the Bearer challenge, before the 101, without a token", async () => {
    const started = backend.started();
    const opened = await open("/v1/chat", from("192.0.2.2"));
    expect(opened).toMatchObject({
      status: 401,
      headers: {
        "www-authenticate": 'Bearer realm="protogate"',
        "content-type": expect.stringMatching(/^application\/json/),
      },
      body: { code: 16, message: "unauthenticated: this route needs a bearer token", details: [] },
    });
    expect(backend.started()).toBe(started); // no call was opened
  });

  it("should answer 403 to a client address the IP filter denies", async () => {
    const opened = await open("/v1/chat", {
      ...from("203.0.113.7"),
      authorization: `Bearer ${await token()}`,
    });
    expect(opened).toMatchObject({
      status: 403,
      body: { code: 7, message: "permission denied: client address not allowed" },
    });
  });

  it("should answer 403 to a page of an origin CORS does not allow, and open for an allowed one", async () => {
    const auth = { authorization: `Bearer ${await token()}` };
    const refused = await open("/v1/chat", { ...from("192.0.2.3"), ...auth, origin: "https://evil.example" });
    expect(refused).toMatchObject({
      status: 403,
      body: { code: 7, message: "origin https://evil.example may not open a WebSocket here" },
    });
    const allowed = await open("/v1/chat", { ...from("192.0.2.3"), ...auth, origin: ORIGIN });
    expect(allowed.status).toBe(101);
    expect(allowed.headers["access-control-allow-origin"]).toBe(ORIGIN);
    if (allowed.ws) expect((await session(allowed.ws, [])).code).toBe(1000);
  });

  it("should count one per upgrade and answer 429 with Retry-After over the limit", async () => {
    const headers = { ...from("192.0.2.4"), authorization: `Bearer ${await token()}` };
    for (const remaining of [1, 0]) {
      const opened = await open("/v1/watch/w?count=1", headers);
      expect(opened.status).toBe(101);
      expect(opened.headers.ratelimit).toMatch(new RegExp(`^"ws";r=${remaining};t=\\d+$`));
      if (opened.ws) expect((await session(opened.ws, ["{}"])).frames).toHaveLength(2);
    }
    const refused = await open("/v1/watch/w?count=1", headers);
    expect(refused).toMatchObject({
      status: 429,
      headers: { "retry-after": expect.stringMatching(/^\d+$/) },
      body: { code: 8, message: 'rate limit "ws" exceeded' },
    });
  });

  it("should answer 404 on a path without a streaming route, after the policies", async () => {
    const opened = await open("/v1/nothing", {
      ...from("192.0.2.5"),
      authorization: `Bearer ${await token()}`,
    });
    expect(opened).toMatchObject({ status: 404, body: { code: 5 } });
    expect(await open("/v1/nothing", from("203.0.113.7"))).toMatchObject({ status: 403 });
  });

  it("should count every session out of the active-requests gauge when it closes", async () => {
    const active = async (): Promise<number> => {
      const text = await (await fetch(`${httpUrl}/metrics`)).text();
      return Number(/^protogate_http_server_active_requests(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1]);
    };
    const before = await active();
    const opened = await open("/v1/chat", { ...from("192.0.2.6"), authorization: `Bearer ${await token()}` });
    expect(await active()).toBe(before + 1); // the session is a request in flight
    if (opened.ws) await session(opened.ws, []);
    await vi.waitFor(async () => expect(await active()).toBe(before));
    const text = await (await fetch(`${httpUrl}/metrics`)).text();
    expect(text).toMatch(
      /^protogate_http_server_request_duration_seconds_count\{[^}]*status="101"[^}]*\} [1-9]/m,
    );
  });
});

describe("Upgrades to another protocol", () => {
  it("should serve a GET with Upgrade: h2c as an ordinary request (the header ignored), not hang it", async () => {
    const { request } = await import("node:http");
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        `${httpUrl}/v1/watch/w?count=1`,
        {
          headers: {
            ...from("192.0.2.7"),
            authorization: "Bearer not-a-token",
            connection: "Upgrade, HTTP2-Settings",
            upgrade: "h2c",
            "http2-settings": "",
          },
        },
        (r) => {
          let text = "";
          r.on("data", (c) => (text += c));
          r.on("end", () => resolve({ status: r.statusCode ?? 0, text }));
        },
      );
      req.on("error", reject).end();
    });
    expect(res.status).toBe(401); // through the same policies, answered over HTTP/1.1
    expect(JSON.parse(res.text)).toMatchObject({ code: 16 });
  });

  it("should refuse an Upgrade to another protocol that comes with a body: 400, then close", async () => {
    const { connect } = await import("node:net");
    const { port } = new URL(httpUrl);
    const answer = await new Promise<string>((resolve, reject) => {
      let text = "";
      const socket = connect(Number(port), "127.0.0.1", () =>
        socket.write(
          "POST /v1/chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 2\r\n\r\n{}",
        ),
      );
      socket.setEncoding("utf8");
      socket.on("data", (c: string) => (text += c));
      socket.on("end", () => resolve(text)); // the gateway closed the connection
      socket.on("error", reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4))).toEqual({
      code: 3,
      message: "Upgrade is only served for websocket",
      details: [],
    });
  });
});

describe("WebSocket on the TLS listener with HTTP/2 by ALPN (its HTTP/1.1 connections)", () => {
  it("should open wss:// sessions and refuse by policy there too", async () => {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { writeCert } = await import("../edge/certs.js");
    const dir = mkdtempSync(join(tmpdir(), "protogate-wss-"));
    writeCert(dir, "wss");
    const tls = await createGateway({
      protos: [STREAM_PROTOS],
      port: 0,
      logLevel: false,
      defaultBackend: backend.address,
      http2: true,
      tls: { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") },
      trustProxy: true,
      ipFilter: { allow: [], deny: ["203.0.113.0/24"] },
    });
    const base = (await tls.listen()).replace(/^https/, "wss");
    const connect = (headers: Record<string, string>) =>
      new Promise<{ status: number; ws?: WebSocket }>((resolve, reject) => {
        const ws = new WebSocket(`${base}/v1/watch/w?count=2`, { headers, rejectUnauthorized: false });
        ws.on("open", () => resolve({ status: 101, ws }));
        ws.on("unexpected-response", (_req, res) => resolve({ status: res.statusCode ?? 0 }));
        ws.on("error", reject);
      });
    try {
      expect((await connect(from("203.0.113.8"))).status).toBe(403);
      const opened = await connect(from("192.0.2.8"));
      expect(opened.status).toBe(101);
      expect(await session(opened.ws!, ["{}"])).toEqual({
        code: 1000,
        frames: ['{"seq":1,"name":"w"}', '{"seq":2,"name":"w"}', '{"end":{"trailers":{"x-total":["2"]}}}'],
      });
    } finally {
      await tls.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
