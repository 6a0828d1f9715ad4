import { execFile } from "node:child_process";
import { promisify } from "node:util";

const rabbitmqctl = (args: string[]) =>
  promisify(execFile)("rabbitmqctl", args, { timeout: 30_000 }).then((r) => r.stdout);

/**
 * Closes the broker connections whose `connection_name` client property is `name`, and only those: the
 * broker is shared with other programs, whose connections must survive our fault tests. Resolves to the
 * number closed. `rabbitmqctl list_connections` prints one `<pid>\t[{"connection_name","..."},...]` line
 * per connection.
 */
export async function closeConnectionsNamed(name: string, reason: string): Promise<number> {
  const listed = await rabbitmqctl([
    "list_connections",
    "pid",
    "client_properties",
    "--quiet",
    "--no-table-headers",
  ]);
  const ours = listed
    .split("\n")
    .filter((line) => line.includes(`{"connection_name",${JSON.stringify(name)}}`))
    .map((line) => line.split("\t")[0]!);
  for (const pid of ours) await rabbitmqctl(["close_connection", pid, reason]);
  return ours.length;
}

/** The `connection_name` the gateway's broker `name` gives its connection (src/upstream/amqp/broker.ts). */
export const gatewayConnectionName = (broker = "default"): string =>
  `protogate ${broker} (pid ${process.pid})`;
