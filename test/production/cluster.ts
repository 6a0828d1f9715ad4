import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { freePort, run, type Spawned } from "../helpers/process.js";

/** `protogate serve --config file` as a child process (stop it with its `stop`). */
export const startProtogate = (config: string): Spawned =>
  run("node", ["bin/protogate.js", "serve", "--config", config, "--no-watch"]);

export interface Haproxy {
  readonly url: string;
  /** How many servers HAProxy's health checks see UP (its stats socket's `show stat`). */
  up(): Promise<number>;
  /** Stops it by its PID; resolves to what it printed. */
  stop(): Promise<string>;
}

/**
 * Debian's haproxy in front of `servers` (loopback ports), health-checking `/_protogate/ready` every
 * 100 ms, retrying on another server a request whose connection could not be made (nothing sent; what any
 * balancer in front of a draining instance does). Its config and stats socket live in `dir`.
 */
export async function startHaproxy(dir: string, servers: readonly number[]): Promise<Haproxy> {
  const port = await freePort();
  const socket = join(dir, "haproxy.sock");
  const cfg = join(dir, "haproxy.cfg");
  writeFileSync(
    cfg,
    [
      "global",
      `  stats socket ${socket} mode 600 level admin`,
      "  maxconn 512",
      "defaults",
      "  mode http",
      "  timeout connect 1s",
      "  timeout client 30s",
      "  timeout server 30s",
      "  retries 3",
      "  option redispatch 1",
      "  retry-on conn-failure",
      "frontend fe",
      `  bind 127.0.0.1:${port}`,
      "  default_backend gateways",
      "backend gateways",
      "  balance roundrobin",
      "  option httpchk GET /_protogate/ready",
      "  http-check expect status 200",
      "  timeout check 2s",
      // fall 3: on a busy machine one slow check must not take a healthy server out
      "  default-server inter 100ms fall 3 rise 1",
      ...servers.map((p, i) => `  server g${i} 127.0.0.1:${p} check`),
      "",
    ].join("\n"),
  );
  const child = spawn("haproxy", ["-f", cfg, "-db"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stat = (): Promise<string> =>
    new Promise((resolve, reject) => {
      let text = "";
      const s = connect(socket, () => s.end("show stat\n"));
      s.on("data", (c: Buffer) => (text += c.toString()));
      s.on("end", () => resolve(text));
      s.on("error", reject);
    });
  return {
    url: `http://127.0.0.1:${port}`,
    async up() {
      const text = await stat().catch(() => "");
      return text.split("\n").filter((l) => /^gateways,g\d+,/.test(l) && l.split(",")[17] === "UP").length;
    },
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      return out;
    },
  };
}
