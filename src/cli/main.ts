import { existsSync } from "node:fs";
import { LoadError } from "../config/load-error.js";
import { createGateway } from "../server/gateway.js";
import { parseServeArgs, USAGE } from "./args.js";

/** The `protogate` command. Returns an exit code, or undefined while serving. */
export async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== "serve") {
    process.stderr.write(`unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  let options: ReturnType<typeof parseServeArgs>;
  try {
    options = parseServeArgs(rest);
    if (options.mappings === undefined && existsSync("mappings"))
      options = { ...options, mappings: "mappings" };
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  try {
    const gateway = await createGateway(options);
    const url = await gateway.listen();
    process.stdout.write(`protogate listening on ${url} (${gateway.config().table.routes.length} routes)\n`);
    const stop = (signal: string): void => {
      gateway.app.log.info(`${signal}: draining requests in flight, then stopping`);
      gateway.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    return undefined;
  } catch (err) {
    if (err instanceof LoadError) {
      process.stderr.write(`protogate: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
