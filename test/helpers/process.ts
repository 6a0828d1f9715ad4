import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));

export interface Spawned {
  child: ChildProcess;
  /** Resolves with the first http://host:port the process prints. */
  url: Promise<string>;
  output: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** The signal that ended the process (its exit code is then null), else null. */
  exitSignal(): NodeJS.Signals | null;
  /** SIGINT by default: it drains at once, where SIGTERM first waits the readiness delay (5 s). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs a command (from the repo root unless `cwd`), collecting its output, watching for the "listening on" URL. */
export function run(command: string, args: string[], env: Record<string, string> = {}, cwd = REPO): Spawned {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let signal: NodeJS.Signals | null = null;
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code, sig) => {
      signal = sig;
      resolve(code);
    }),
  );
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
    exited.then((code) => reject(new Error(`exited with ${code} before listening:\n${out}`)));
  });
  url.catch(() => undefined);
  return {
    child,
    url,
    output: () => out,
    exitSignal: () => signal,
    exited,
    stop(signal = "SIGINT") {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** The PIDs of a process's children (the workers of `--workers`). */
export function childPids(pid: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" })
      .trim()
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * A loopback port free right now. Not 0 where a port must stay the same: a cluster whose every listening
 * worker died binds a new random port for the next one, and a restarted gateway must come back on its own.
 */
export const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/**
 * `protogate serve` of this checkout with a config file: the protos of `protos`, every service on the
 * backend at `backend`, a free port, `logLevel: info` (access log lines on its stdout), no watcher.
 */
export function serveLogging(protos: string, backend: string): Spawned {
  const file = join(mkdtempSync(join(tmpdir(), "protogate-log-")), "protogate.yaml");
  writeFileSync(
    file,
    [
      "server: { port: 0 }",
      `protos: [${JSON.stringify(protos)}]`,
      `backends: { default: ${JSON.stringify(backend)} }`,
      "logLevel: info",
    ].join("\n"),
  );
  return run("node", ["bin/protogate.js", "serve", "--config", file, "--no-watch"]);
}
