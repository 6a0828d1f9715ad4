import type { GatewayOptions } from "../config/options.js";
import type { Route } from "../routing/route.js";
import { type CheckResult, checkConfig, type DescriptorSource } from "../server/load-table.js";
import { ReflectionSources } from "../server/reflection-sources.js";
import { ReflectionClients } from "../upstream/grpc/reflection-clients.js";
import { NO_ROUTES, nothingToServe } from "./nothing-to-serve.js";

/**
 * `protogate check` and `protogate routes`: load protos and mappings exactly as `serve` does and report,
 * for users' CI. Both exit 1 if anything is wrong, after printing every problem found.
 */
export async function runCheck(
  options: GatewayOptions,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const checked = checkConfig(options, await reflectOnce(options, err));
  const empty = nothingToServe(options);
  const result = empty ? { ...checked, errors: [empty, ...checked.errors] } : checked;
  printProblems(result, err);
  if (result.errors.length > 0) {
    err.write(`protogate check: ${result.errors.length} error${result.errors.length === 1 ? "" : "s"}\n`);
    return 1;
  }
  const routes = result.config!.table.routes;
  const services = new Set(routes.map((r) => r.method.service));
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  out.write(
    `protogate check: ok, ${plural(routes.length, "route")} for ${plural(services.size, "service")}\n`,
  );
  return 0;
}

export async function runRoutes(
  options: GatewayOptions,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const result = checkConfig(options, await reflectOnce(options, err));
  if (result.config) out.write(routeTable(result.config.table.routes, result.config.backends));
  printProblems(result, err);
  return result.errors.length > 0 ? 1 : 0;
}

function printProblems(result: CheckResult, err: NodeJS.WritableStream): void {
  for (const e of result.errors) err.write(`error ${e.message}\n`);
  for (const w of result.config?.table.warnings ?? []) err.write(`warning ${w}\n`);
  if (result.config?.table.routes.length === 0 && result.errors.length === 0)
    err.write(`warning ${NO_ROUTES}\n`);
  if (result.config) {
    for (const s of new Set(result.config.table.routes.map((r) => r.method.service))) {
      if (!result.config.backends.has(s) && !result.config.backends.has("")) {
        err.write(`warning ${s}: no backend configured; its routes will answer 503\n`);
      }
    }
  }
}

/** The route table as aligned text columns: HTTP method, template, gRPC method, body, response body, target. */
export function routeTable(routes: readonly Route[], backends: ReadonlyMap<string, string>): string {
  const rows = [["METHOD", "PATH", "GRPC METHOD", "BODY", "RESPONSE BODY", "BACKEND"]];
  for (const r of routes) {
    const body = r.body.kind === "all" ? "*" : r.body.kind === "field" ? r.body.field.name : "-";
    rows.push([
      r.httpMethod,
      r.template.source,
      r.method.fullName,
      body,
      r.responseBody?.name ?? "-",
      backends.get(r.method.service) ?? backends.get("") ?? "(none)",
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return `${rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n")}\n`;
}

/** Services of `--reflect` backends, fetched once (a backend that does not answer is reported). */
async function reflectOnce(options: GatewayOptions, err: NodeJS.WritableStream): Promise<DescriptorSource[]> {
  if (!options.reflect?.length) return [];
  const channels = new ReflectionClients();
  const log = { info: () => undefined, error: (m: string) => err.write(`warning ${m}\n`) };
  const sources = new ReflectionSources(options.reflect, channels, () => undefined, log);
  try {
    await sources.start();
    return sources.sources();
  } finally {
    sources.close();
    channels.close();
  }
}
