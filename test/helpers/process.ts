import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));

export interface Spawned {
  child: ChildProcess;
  /** Resolves with the first http://host:port the process prints. */
  url: Promise<string>;
  output: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
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
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
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
    exited,
    stop(signal = "SIGINT") {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
