import { BlockList, isIP } from "node:net";
import type { FastifyRequest } from "fastify";
import { LoadError } from "../config/load-error.js";
import { asObject, onlyKeys } from "../config/validate.js";
import { Code } from "../errors/code.js";
import { GatewayError } from "../errors/gateway-error.js";
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

export function readIpFilterConfig(v: unknown, where: string): IpFilterConfig {
  const o = asObject(v, where);
  onlyKeys(o, ["allow", "deny"], where);
  const read = (x: unknown, at: string): string[] => {
    const l = x === undefined ? [] : ([] as unknown[]).concat(x);
    for (const e of l) {
      const [addr, bits] = String(e).split("/");
      if (!isIP(addr ?? "") || (bits !== undefined && !/^\d{1,3}$/.test(bits))) {
        throw new LoadError("CONFIG_INVALID", at, `"${String(e)}" is not an address or CIDR range`);
      }
    }
    return l as string[];
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
