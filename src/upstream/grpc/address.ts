import { isIP } from "node:net";

/**
 * A backend address as the config writes it:
 *   host:port, [v6]:port          plaintext HTTP/2 (prior knowledge), DNS-resolved, round robin over answers
 *   tls://host:port               TLS with ALPN h2, certificate checked against host
 *   dns:///host:port, dns:host:port   the gRPC name syntax for the same
 *   ipv4:a:p,b:p / ipv6:[a]:p,... a static list of addresses, round robin
 *   unix:/path, unix:///path      a Unix domain socket
 */
export interface BackendAddress {
  readonly tls: boolean;
  /** Name for :authority and TLS SNI. */
  readonly authority: string;
  readonly endpoints: readonly Endpoint[] | undefined;
  /** Set when the endpoints come from DNS. */
  readonly host: string | undefined;
  readonly port: number;
}

export type Endpoint = { readonly host: string; readonly port: number } | { readonly path: string };

export function parseAddress(address: string): BackendAddress {
  let rest = address.trim();
  let tls = false;
  if (rest.startsWith("tls://")) {
    tls = true;
    rest = rest.slice(6);
  }
  if (rest.startsWith("unix:")) {
    const path = rest.slice(5).replace(/^\/\/(?=\/)/, "");
    if (!path) throw new Error(`"${address}": unix: needs a socket path`);
    return { tls, authority: "localhost", endpoints: [{ path }], host: undefined, port: 0 };
  }
  if (rest.startsWith("ipv4:") || rest.startsWith("ipv6:")) {
    const endpoints = rest
      .slice(5)
      .split(",")
      .map((part) => hostPort(part, address));
    return { tls, authority: rest.slice(5).split(",")[0]!, endpoints, host: undefined, port: 0 };
  }
  if (rest.startsWith("dns:///")) rest = rest.slice(7);
  else if (rest.startsWith("dns:")) rest = rest.slice(4);
  const { host, port } = hostPort(rest, address);
  const literal = isIP(host) !== 0;
  return {
    tls,
    authority: rest,
    endpoints: literal ? [{ host, port }] : undefined,
    host: literal ? undefined : host,
    port,
  };
}

function hostPort(text: string, address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port < 1 || port > 65535)
    throw new Error(`"${address}": expected host:port, [ipv6]:port, tls://host:port or unix:/path`);
  return { host: (m[1] ?? m[2])!, port };
}
