import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { readAuthConfig } from "../policies/auth/config.js";
import { readCorsConfig } from "../policies/cors.js";
import { readIpFilterConfig } from "../policies/ip-filter.js";
import { readRateLimitConfig } from "../policies/rate-limit/config.js";
import { readAmqpConfig } from "../upstream/amqp/config.js";
import type { BackendTls } from "../upstream/grpc/channel.js";
import { parseDurationMs, parseSizeBytes } from "./duration.js";
import { LoadError } from "./load-error.js";
import { readMethodSettings } from "./method-settings.js";
import type { GatewayOptions } from "./options.js";
import { asObject, onlyKeys, optBool, optParsed, optString, portNumber, stringMap } from "./validate.js";
import { readYamlFile } from "./yaml-file.js";

/**
 * `protogate serve --config protogate.yaml`. Relative paths are relative to the file.
 *
 *   server: { host: 0.0.0.0, port: 8080, bodyLimit: 1mb }
 *   protos: [protos]
 *   mappings: mappings
 *   backends: { default: 127.0.0.1:9090, services: { bookstore.v1.Bookstore: tls://books:443 },
 *               tls: { ca: ca.pem, cert: client.pem, key: client-key.pem } }
 *   autoMapping: true
 *   defaults: { timeout: 30s, unknownQueryParameters: ignore, json: { emitUnpopulated: false } }
 *   logLevel: info
 */
export function readConfigFile(file: string): GatewayOptions {
  return readYamlFile(file, (doc) => readConfig(doc, file));
}

function readConfig(doc: unknown, file: string): GatewayOptions {
  const o = asObject(doc ?? {}, file);
  onlyKeys(
    o,
    [
      "server",
      "protos",
      "descriptorSets",
      "reflect",
      "mappings",
      "backends",
      "autoMapping",
      "defaults",
      "auth",
      "rateLimit",
      "trustProxy",
      "cors",
      "ipFilter",
      "amqp",
      "logLevel",
    ],
    file,
  );
  const base = dirname(resolve(file));
  const server = asObject(o.server ?? {}, `${file}: server`);
  onlyKeys(server, ["host", "port", "bodyLimit", "maxHeaderSize", "admin", "shutdown"], `${file}: server`);
  const backends = asObject(o.backends ?? {}, `${file}: backends`);
  onlyKeys(backends, ["default", "services", "tls"], `${file}: backends`);
  const protos = o.protos === undefined ? [] : ([] as unknown[]).concat(o.protos);
  if (!protos.every((p) => typeof p === "string"))
    throw new LoadError("CONFIG_INVALID", `${file}: protos`, "expected a list of directories");
  const mappings = optString(o, "mappings", file);
  const sets = o.descriptorSets === undefined ? [] : ([] as unknown[]).concat(o.descriptorSets);
  if (!sets.every((p) => typeof p === "string"))
    throw new LoadError("CONFIG_INVALID", `${file}: descriptorSets`, "expected a list of files");
  const logLevel = o.logLevel === false ? false : optString(o, "logLevel", file);
  return {
    protos: (protos as string[]).map((p) => resolve(base, p)),
    mappings: mappings === undefined ? undefined : resolve(base, mappings),
    descriptorSets: (sets as string[]).map((p) => resolve(base, p)),
    reflect: stringList(o.reflect, `${file}: reflect`),
    ...(o.auth === undefined ? {} : { auth: readAuthConfig(o.auth, `${file}: auth`) }),
    ...(o.rateLimit === undefined
      ? {}
      : { rateLimit: readRateLimitConfig(o.rateLimit, `${file}: rateLimit`) }),
    ...(o.cors === undefined ? {} : { cors: readCorsConfig(o.cors, `${file}: cors`) }),
    ...(o.amqp === undefined ? {} : { amqp: readAmqpConfig(o.amqp, `${file}: amqp`) }),
    ...(o.ipFilter === undefined ? {} : { ipFilter: readIpFilterConfig(o.ipFilter, `${file}: ipFilter`) }),
    ...(o.trustProxy === undefined ? {} : { trustProxy: o.trustProxy as boolean | string | string[] }),
    defaultBackend: optString(backends, "default", `${file}: backends`),
    backends:
      backends.services === undefined ? {} : stringMap(backends.services, `${file}: backends.services`),
    ...(backends.tls === undefined
      ? {}
      : { backendTls: readBackendTls(backends.tls, base, `${file}: backends.tls`) }),
    host: optString(server, "host", `${file}: server`),
    port: optParsed(server, "port", `${file}: server`, portNumber, "a port number"),
    ...(server.admin === undefined ? {} : { admin: readAdmin(server.admin, `${file}: server.admin`) }),
    ...(server.shutdown === undefined ? {} : readShutdown(server.shutdown, `${file}: server.shutdown`)),
    bodyLimit: optParsed(server, "bodyLimit", `${file}: server`, parseSizeBytes, 'a size such as "1mb"'),
    autoMapping: optBool(o, "autoMapping", file),
    maxHeaderSize: optParsed(
      server,
      "maxHeaderSize",
      `${file}: server`,
      parseSizeBytes,
      'a size such as "16kb"',
    ),
    routeDefaults: o.defaults === undefined ? undefined : readMethodSettings(o.defaults, `${file}: defaults`),
    ...(logLevel === undefined ? {} : { logLevel }),
  } as GatewayOptions;
}

/** `server.admin: { host, port }`: the listener of the gateway's own endpoints. */
function readAdmin(v: unknown, where: string): { host?: string; port: number } {
  const o = asObject(v, where);
  onlyKeys(o, ["host", "port"], where);
  const port = optParsed(o, "port", where, portNumber, "a port number");
  if (port === undefined) throw new LoadError("CONFIG_INVALID", where, "the admin listener needs a port");
  const host = optString(o, "host", where);
  return host === undefined ? { port } : { host, port };
}

/** `server.shutdown: { delay: 5s, drainTimeout: 30s }`: the SIGTERM sequence (README "Running in production"). */
function readShutdown(v: unknown, where: string): { shutdownDelayMs?: number; shutdownGraceMs?: number } {
  const o = asObject(v, where);
  onlyKeys(o, ["delay", "drainTimeout"], where);
  const delay = optParsed(o, "delay", where, parseDurationMs, 'a duration such as "5s"');
  const drain = optParsed(o, "drainTimeout", where, parseDurationMs, 'a duration such as "30s"');
  return {
    ...(delay === undefined ? {} : { shutdownDelayMs: delay }),
    ...(drain === undefined ? {} : { shutdownGraceMs: drain }),
  };
}

/** `backends.tls: { ca, cert, key }`: PEM files, relative to the config file, read now. */
function readBackendTls(v: unknown, base: string, where: string): BackendTls {
  const o = asObject(v, where);
  onlyKeys(o, ["ca", "cert", "key"], where);
  const out: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  for (const k of ["ca", "cert", "key"] as const) {
    const path = optString(o, k, where);
    if (path === undefined) continue;
    try {
      out[k] = readFileSync(resolve(base, path));
    } catch (err) {
      throw new LoadError("CONFIG_INVALID", `${where}.${k}`, (err as Error).message, { cause: err });
    }
  }
  return out; // checked (PEM, cert with key) where the channels are built
}

function stringList(v: unknown, where: string): string[] {
  const list = v === undefined ? [] : ([] as unknown[]).concat(v);
  if (!list.every((x) => typeof x === "string" && x !== ""))
    throw new LoadError("CONFIG_INVALID", where, "expected a list of strings");
  return list as string[];
}
