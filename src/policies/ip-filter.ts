import { BlockList, isIP } from "node:net";
import type { FastifyRequest } from "fastify";
import { LoadError } from "../config/load-error.js";
import { checkShape } from "../config/schema-check.js";
import { Code } from "../errors/code.js";
import { GatewayError } from "../errors/gateway-error.js";
import { ipFilterSchema } from "./ip-filter-schema.js";
import type { PolicyModule } from "./policy.js";

/**
 * Allow and deny lists of addresses and CIDR ranges (node:net's BlockList), on the client address as
 * Fastify sees it (X-Forwarded-For only when trustProxy is set). Deny wins; a non-empty allow list
 * admits only its members.
 */
export interface IpFilterConfig {
  readonly allow: readonly string[];
  readonly deny: readonly string[];
}

/** Reads the config file's `ipFilter:` (shape: ipFilterSchema), then checks that each entry parses. */
export function readIpFilterConfig(v: unknown, where: string): IpFilterConfig {
  const o = checkShape<{ allow?: string | string[]; deny?: string | string[] }>(ipFilterSchema, v, where);
  const read = (x: string | string[] | undefined, at: string): string[] => {
    const l = x === undefined ? [] : ([] as string[]).concat(x);
    for (const e of l) {
      const [addr, bits] = e.split("/");
      if (!isIP(addr ?? "") || (bits !== undefined && Number(bits) > (isIP(addr ?? "") === 6 ? 128 : 32))) {
        throw new LoadError("CONFIG_INVALID", at, `"${e}" is not an address or CIDR range`);
      }
    }
    return l;
  };
  return { allow: read(o.allow, `${where}.allow`), deny: read(o.deny, `${where}.deny`) };
}

function blockList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const e of entries) {
    const [addr, bits] = e.split("/") as [string, string | undefined];
    const type = isIP(addr) === 6 ? "ipv6" : "ipv4";
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  return list;
}

/** Client addresses and CIDR ranges admitted or refused (config `ipFilter:`), before anything else. */
export const ipFilterPolicy: PolicyModule<IpFilterConfig> = {
  name: "ipFilter",
  configKey: "ipFilter",
  create: (config) => (config ? { global: ipFilter(config) } : undefined),
};

export function ipFilter(config: IpFilterConfig) {
  const allow = config.allow.length > 0 ? blockList(config.allow) : undefined;
  const deny = blockList(config.deny);
  return async function filter(req: FastifyRequest): Promise<void> {
    const ip = req.ip.startsWith("::ffff:") ? req.ip.slice(7) : req.ip;
    const type = isIP(ip) === 6 ? "ipv6" : "ipv4";
    if (deny.check(ip, type) || (allow && !allow.check(ip, type))) {
      throw new GatewayError(Code.PERMISSION_DENIED, "permission denied: client address not allowed");
    }
  };
}
