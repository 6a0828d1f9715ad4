import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/server/gateway.js";
import { freePort, REPO } from "../helpers/process.js";
import { reachable } from "../helpers/services.js";
import { raw } from "./http.js";

// Interoperability with a Go gRPC server (issue #14, "the Go backend of ../shared/peer-bench"): the Echo
// service of the peer benchmark, a grpc-go server in the echo-gw binary that build.sh makes. protogate's
// own HTTP/2 client streams EchoStream from it; every framing is checked byte for byte.

const PEER = join(REPO, "../shared/peer-bench");
const BINARY = join(process.env.PEER_DIR ?? "/tmp/peer-bench", "echo-gw");
const GO_PROTOS = join(PEER, "go/src/example.com/echo/proto");
const EXTRA_PROTOS = fileURLToPath(new URL("./protos-go-peer", import.meta.url));

/** Outside CI a missing binary skips these tests loudly; under CI=true it fails them (.ci/run builds it). */
function skipWithoutPeer(): boolean {
  if (existsSync(BINARY) && existsSync(GO_PROTOS)) return false;
  const how = `bash ${join(PEER, "build.sh")}   # writes ${BINARY} (PEER_DIR sets the directory)`;
  if (process.env.CI === "true")
    throw new Error(`the Go peer ${BINARY} is missing and CI=true: build it with\n${how}`);
  console.warn(
    `\n!!! SKIPPING the Go peer interop tests: ${BINARY} is missing. Build it with:\n!!!   ${how}\n`,
  );
  return true;
}
const skip = skipWithoutPeer();

let peer: ChildProcess | undefined;
let peerLog = "";
let gateway: Gateway;
let url: string;

beforeAll(async () => {
  if (skip) return;
  const grpcPort = await freePort();
  const httpPort = await freePort();
  peer = spawn(
    BINARY,
    ["-mode=loopback", "-grpc", `127.0.0.1:${grpcPort}`, "-http", `127.0.0.1:${httpPort}`],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  peer.stdout!.on("data", (c: Buffer) => (peerLog += c));
  peer.stderr!.on("data", (c: Buffer) => (peerLog += c));
  for (let i = 0; i < 100 && !(await reachable(grpcPort)); i++) await new Promise((r) => setTimeout(r, 50));
  if (!(await reachable(grpcPort))) throw new Error(`the Go peer did not listen on ${grpcPort}:\n${peerLog}`);
  gateway = await createGateway({
    protos: [GO_PROTOS, EXTRA_PROTOS],
    port: 0,
    logLevel: false,
    defaultBackend: `127.0.0.1:${grpcPort}`,
  });
  url = await gateway.listen();
});
afterAll(async () => {
  await gateway?.close();
  if (peer && peer.exitCode === null) {
    const exited = new Promise((r) => peer!.once("exit", r));
    peer.kill("SIGTERM"); // by its own PID: the child this file started
    await exited;
  }
});

const times = (n: number, s: string) => Array.from({ length: n }, () => s).join("");

describe.skipIf(skip)("server streaming from the Go gRPC peer (grpc-go)", () => {
  it("should write every message as one NDJSON line, then the end record", async () => {
    const res = await raw(url, "GET", "/v1/echo/hello/stream?count=5");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/x-ndjson");
    expect(res.text).toBe(`${times(5, '{"message":"hello"}\n')}{"end":{"trailers":{}}}\n`);
  });

  it("should write Server-Sent Events with ids, then event: end", async () => {
    const res = await raw(url, "GET", "/v1/echo/h%C3%A9llo%20w/stream?count=3", {
      accept: "text/event-stream",
    });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/event-stream");
    const events = [1, 2, 3].map((id) => `id: ${id}\ndata: {"message":"héllo w"}\n\n`).join("");
    expect(res.text).toBe(`${events}event: end\ndata: {"trailers":{}}\n\n`);
  });

  it("should write the JSON array framing element by element, the end record last", async () => {
    const res = await raw(url, "GET", "/v1/echo/a/stream?count=2", { accept: "application/json" });
    expect(res.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(res.text)).toEqual([{ message: "a" }, { message: "a" }, { end: { trailers: {} } }]);
  });

  it("should stream the Go server's default of 100 messages in order, with HTTP trailers when TE asks", async () => {
    const res = await raw(url, "GET", "/v1/echo/x/stream", { te: "trailers" });
    expect(res.text).toBe(`${times(100, '{"message":"x"}\n')}{"end":{"trailers":{}}}\n`);
    expect(res.trailers).toMatchObject({ "grpc-status": "0" });
  });

  it("should answer grpc-go's UNIMPLEMENTED (trailers-only) as a normal error answer, before any message", async () => {
    const res = await raw(url, "GET", "/v1/extra/hello/stream");
    expect(res.status).toBe(501);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.text).toBe('{"code":12,"message":"unknown service echo.v1.EchoExtra","details":[]}');
  });

  it("should end with an error record after the first messages when the deadline passes mid-stream", async () => {
    const res = await raw(url, "GET", "/v1/echo/d/stream?count=100000000", { "grpc-timeout": "300m" });
    expect(res.status).toBe(200);
    const lines = res.text.trimEnd().split("\n");
    const last = JSON.parse(lines.pop()!);
    expect(last).toMatchObject({ error: { code: 4 } });
    expect(lines.length).toBeGreaterThan(0);
    expect(new Set(lines)).toEqual(new Set(['{"message":"d"}']));
  });
});
