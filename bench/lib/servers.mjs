// Child processes for the load benchmark, pinned to one CPU when taskset exists, so that the load
// generator (on the other CPU) does not compete with what it measures.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

const hasTaskset = spawnSync("taskset", ["--version"]).status === 0;

/** Runs `node args...`, resolves when it prints a line matching `ready`, with the match. */
export function start(args, ready, { cpu = 0, env = {} } = {}) {
  const [cmd, argv] = hasTaskset
    ? ["taskset", ["-c", String(cpu), process.execPath, ...args]]
    : [process.execPath, args];
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      out += chunk;
      const m = ready.exec(out);
      if (m) resolve({ child, match: m, pid: child.pid, stop: () => stop(child) });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (c) => (out += c));
    child.on("exit", (code) =>
      reject(new Error(`${args.join(" ")} exited (${code}) before it was ready:\n${out}`)),
    );
  });
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", resolve);
    child.kill("SIGTERM");
  });
}

/**
 * The Node flags of the `protogate` command (its shebang line), so that the benchmarks run the gateway
 * as users' `protogate serve` does.
 */
export function gatewayNodeFlags(root) {
  const shebang = readFileSync(`${root}bin/protogate.js`, "utf8").split("\n", 1)[0];
  return shebang.split(/\s+/).filter((word) => word.startsWith("--"));
}

/** Resident memory of a process, MiB (Linux). */
export function rssMiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

export const pinned = hasTaskset;
