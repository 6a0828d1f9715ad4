/** Why the operating system refused a listening socket, in words an operator can act on. */
const REASONS: Record<string, string> = {
  EADDRINUSE:
    "the port is already in use (another protogate, or another program, listens there): stop it or choose another port",
  EACCES: "permission denied (ports below 1024 need privileges): choose a port from 1024 up",
  EADDRNOTAVAIL: "this machine has no such address: check --host",
};

/**
 * The message for an error thrown by `listen()` (Node's `listen EADDRINUSE: ...`, or a cluster worker's
 * `bind EADDRINUSE ...`), naming the address and port; undefined when `err` is not a listen failure we
 * know, so that the caller rethrows it.
 */
export function listenFailure(err: unknown): string | undefined {
  const e = err as { code?: unknown; syscall?: unknown; address?: unknown; port?: unknown };
  if (typeof e?.code !== "string" || !(e.code in REASONS)) return undefined;
  if (e.syscall !== "listen" && e.syscall !== "bind") return undefined;
  const host = typeof e.address === "string" && e.address.includes(":") ? `[${e.address}]` : e.address;
  const where = typeof host === "string" ? `${host}:${String(e.port ?? "")}` : "its address";
  return `cannot listen on ${where}: ${REASONS[e.code]}`;
}
