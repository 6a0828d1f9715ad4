import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { type ClientHttp2Session, connect as h2connect } from "node:http2";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EchoServer, startEchoServer } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { writeCert } from "./certs.js";
import { hostPort } from "./raw.js";

/**
 * TLS and HTTP/2 on the public port (issue #19 point 2): h2 by ALPN beside HTTP/1.1, with node:http2,
 * node:https and curl; the certificate replaced on disk is served to new connections without a restart;
 * h2c with prior knowledge.
 */
const exec = promisify(execFile);
let backend: EchoServer;
let dir: string;
beforeAll(async () => {
  backend = await startEchoServer();
  dir = mkdtempSync(join(tmpdir(), "protogate-tls-"));
  writeCert(dir, "first");
});
afterAll(async () => {
  await backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One HTTP/2 request on a session; resolves to :status, content-type and the body text. */
function h2get(
  session: ClientHttp2Session,
  path: string,
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":path": path });
    let status = 0;
    let type = "";
    let body = "";
    stream.setEncoding("utf8");
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      type = String(h["content-type"]);
    });
    stream.on("data", (d: string) => {
      body += d;
    });
    stream.on("end", () => resolve({ status, type, body }));
    stream.on("error", reject);
  });
}

/** The CN of the certificate a fresh TLS connection is served. */
function servedCn(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      resolve(String(socket.getPeerCertificate().subject.CN));
      socket.end();
    });
    socket.on("error", reject);
  });
}

describe("TLS with HTTP/2 by ALPN", () => {
  let gw: RunningGateway;
  let port: number;
  const ca = () => readFileSync(join(dir, "cert.pem"));
  beforeAll(async () => {
    gw = await startGateway({
      backend: backend.address,
      tls: { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") },
      http2: true,
    });
    port = hostPort(gw.url).port;
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("should say https in its address", () => {
    expect(gw.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it("should serve HTTP/2 to a client that offers h2", async () => {
    const session = h2connect(`https://localhost:${port}`, { ca: ca() });
    try {
      const res = await h2get(session, "/v1/echo/hello");
      expect(session.alpnProtocol).toBe("h2");
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ s: "hello" });
      const missing = await h2get(session, "/v1/nowhere/at/all");
      expect(missing.status).toBe(404);
      expect(JSON.parse(missing.body)).toMatchObject({ code: 5 });
    } finally {
      session.close();
    }
  });

  it("should serve HTTP/1.1 over TLS on the same port", async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest({ host: "localhost", port, path: "/v1/echo/one", ca: ca() }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => resolve(`${res.httpVersion} ${res.statusCode} ${text}`));
      });
      req.on("error", reject);
      req.end();
    });
    expect(body).toMatch(/^1\.1 200 \{.*"s":"one"/);
  });

  it.each([
    ["--http2", /^HTTP\/2 200/],
    ["--http1.1", /^HTTP\/1.1 200/],
  ])("should answer curl %s", async (flag, statusLine) => {
    const { stdout } = await exec("curl", [
      ...["-sS", "-i", flag, "--cacert", join(dir, "cert.pem")],
      `https://localhost:${port}/v1/echo/curl`,
    ]);
    expect(stdout).toMatch(statusLine);
    expect(stdout).toContain('"s":"curl"');
  });

  it("should refuse a request without Host over HTTP/1.1 with a Status body", async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({
        host: "127.0.0.1",
        port,
        ca: ca(),
        servername: "localhost",
        ALPNProtocols: ["http/1.1"],
      });
      let text = "";
      socket.setEncoding("utf8");
      socket.on("data", (d: string) => {
        text += d;
      });
      socket.on("close", () => resolve(text));
      socket.on("error", reject);
      socket.write("GET /v1/echo/x HTTP/1.1\r\n\r\n");
    });
    expect(raw).toMatch(/^HTTP\/1.1 400 /);
    expect(raw).toContain('"code":3');
  });

  it("should serve a replaced certificate to new connections without a restart", async () => {
    expect(await servedCn(port)).toBe("first");
    writeCert(dir, "second");
    // The reload follows the file events; no deadline is asserted, the test's timeout bounds it.
    while ((await servedCn(port)) !== "second") await new Promise((r) => setTimeout(r, 50));
    const session = h2connect(`https://localhost:${port}`, { ca: ca() });
    try {
      expect((await h2get(session, "/v1/echo/after")).status).toBe(200);
    } finally {
      session.close();
    }
  });

  it("should keep the certificate in force when the new files do not load", async () => {
    const before = await servedCn(port);
    writeFileSync(join(dir, ".broken.pem"), "not a certificate");
    renameSync(join(dir, ".broken.pem"), join(dir, "cert.pem"));
    await new Promise((r) => setTimeout(r, 500)); // past the watcher's debounce: the reload has been tried
    expect(await servedCn(port)).toBe(before);
    writeCert(dir, "third");
    while ((await servedCn(port)) !== "third") await new Promise((r) => setTimeout(r, 50));
  });

  it("should close with an HTTP/2 session still open", async () => {
    const other = await startGateway({
      backend: backend.address,
      tls: { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") },
      http2: true,
    });
    const session = h2connect(`https://localhost:${hostPort(other.url).port}`, { ca: ca() });
    session.on("error", () => undefined);
    expect((await h2get(session, "/v1/echo/open")).status).toBe(200);
    await other.close();
    await new Promise((r) => (session.closed ? r(undefined) : session.once("close", r)));
    expect(session.closed).toBe(true);
  });
});

describe("h2c", () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway({ backend: backend.address, http2: "h2c" });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("should serve cleartext HTTP/2 with prior knowledge (node:http2)", async () => {
    const session = h2connect(gw.url);
    try {
      const res = await h2get(session, "/v1/echo/clear");
      expect(res.status).toBe(200);
      expect(res.type).toMatch(/^application\/json/);
      expect(JSON.parse(res.body)).toMatchObject({ s: "clear" });
    } finally {
      session.close();
    }
  });

  it("should answer curl --http2-prior-knowledge", async () => {
    const { stdout } = await exec("curl", ["-sS", "-i", "--http2-prior-knowledge", `${gw.url}/v1/echo/curl`]);
    expect(stdout).toMatch(/^HTTP\/2 200/);
    expect(stdout).toContain('"s":"curl"');
  });
});
