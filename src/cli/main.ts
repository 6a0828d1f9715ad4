import { LoadError } from "../config/load-error.js";
import type { GatewayOptions } from "../config/options.js";
import { createGateway, type Gateway } from "../server/gateway.js";
import { parseServeArgs, USAGE } from "./args.js";
import { runCheck, runRoutes } from "./inspect.js";
import { listenFailure } from "./listen-error.js";
import { NO_ROUTES, nothingToServe } from "./nothing-to-serve.js";
import { isWorker, reportFatal, reportReady, supervise } from "./workers.js";

const COMMANDS = new Set(["serve", "check", "routes"]);

/** The `protogate` command. Returns an exit code, or undefined while serving. */
export async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === "init") return (await import("./init.js")).runInit(rest, process.stdout, process.stderr);
  if (!COMMANDS.has(command)) {
    process.stderr.write(`unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  let options: ReturnType<typeof parseServeArgs>;
  try {
    options = parseServeArgs(rest);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (command === "check") return runCheck(options, process.stdout, process.stderr);
  if (command === "routes") return runRoutes(options, process.stdout, process.stderr);
  if (options.workers > 1 && !isWorker()) {
    // validate once, in the primary, so that a broken config fails fast instead of N times
    const check = await runCheck(
      options,
      { write: () => true } as unknown as NodeJS.WritableStream,
      process.stderr,
    );
    if (check !== 0) return 1;
    return supervise(options.workers);
  }
  return serve(options, () => parseServeArgs(rest));
}

/** Serves until a signal: SIGTERM shuts down (readiness first), SIGINT drains at once, SIGHUP reloads. */
async function serve(options: GatewayOptions, reread: () => GatewayOptions): Promise<number | undefined> {
  const empty = nothingToServe(options);
  if (empty) return failed(empty.message);
  try {
    const gateway = await createGateway(options);
    let url: string;
    try {
      url = await gateway.listen();
    } catch (err) {
      const message = listenFailure(err);
      if (message === undefined) throw err;
      // Fail at once: the file watcher and the backends' channels would otherwise keep the process alive.
      await gateway.close().catch(() => undefined);
      return failed(message);
    }
    // The signal handlers before the "listening" line: whoever reads that line may signal at once, and
    // a signal that comes before its handler kills the process with the default action (no drain).
    const exit = (done: Promise<void>): void => {
      done.then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once("SIGTERM", () => {
      gateway.log.info("SIGTERM: shutting down (not ready, then draining requests in flight)");
      exit(gateway.shutdown());
    });
    process.once("SIGINT", () => {
      gateway.log.info("SIGINT: draining requests in flight, then stopping");
      exit(gateway.close());
    });
    process.on("SIGHUP", () => void reconfigure(gateway, options, reread));
    const routes = gateway.config().table.routes.length;
    if (isWorker()) reportReady(url, routes);
    else {
      if (routes === 0) process.stderr.write(`protogate: warning: ${NO_ROUTES}\n`);
      const admin = gateway.admin ? `, admin on ${gateway.admin.listeningOrigin}` : "";
      process.stdout.write(`protogate listening on ${url} (${routes} routes)${admin}\n`);
    }
    return undefined;
  } catch (err) {
    if (err instanceof LoadError) return failed(err.message);
    throw err;
  }
}

/**
 * SIGHUP: reads the config file (and flags) again and reconfigures the gateway; a file that does not
 * read keeps the running configuration. Listen addresses and AMQP brokers need a restart: said if changed.
 */
async function reconfigure(gateway: Gateway, started: GatewayOptions, reread: () => GatewayOptions) {
  let next: GatewayOptions;
  try {
    next = reread();
  } catch (err) {
    gateway.log.error(`SIGHUP: the running configuration stays: ${(err as Error).message}`);
    return;
  }
  const fixed = (o: GatewayOptions) => JSON.stringify([o.host, o.port, o.admin, o.amqp]);
  if (fixed(next) !== fixed(started))
    gateway.log.warn("SIGHUP: listen addresses and AMQP brokers are not reloaded: restart to change them");
  await gateway.reconfigure(next);
}

/** Serving cannot start: say why, and tell the supervising primary (if any) not to start another worker. */
function failed(message: string): number {
  process.stderr.write(`protogate: ${message}\n`);
  if (isWorker()) reportFatal();
  return 1;
}
