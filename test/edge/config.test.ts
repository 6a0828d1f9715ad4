import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readConfigFile } from "../../src/config/config-file.js";
import { LoadError } from "../../src/config/load-error.js";
import { createGateway } from "../../src/server/gateway.js";
import { TEST_PROTOS } from "../helpers/echo-server.js";
import { tree } from "../helpers/tree.js";

/** The listener keys of `server:` in the config file, their defaults, and the combinations refused. */
const read = (server: string) => {
  const dir = tree({ "protogate.yaml": `server:\n${server}\nprotos: [protos]\n` });
  return { dir, options: readConfigFile(join(dir, "protogate.yaml")) };
};

describe("server: listener keys", () => {
  it("should read every key", () => {
    const { dir, options } = read(
      [
        "  requestTimeout: 20s",
        "  headersTimeout: 5s",
        "  keepAliveTimeout: 2m",
        "  maxConnections: 1000",
        "  tls: { cert: certs/tls.crt, key: certs/tls.key }",
        "  http2: true",
        "  compression: { threshold: 2kb, encodings: [gzip] }",
      ].join("\n"),
    );
    expect(options).toMatchObject({
      requestTimeoutMs: 20_000,
      headersTimeoutMs: 5_000,
      keepAliveTimeoutMs: 120_000,
      maxConnections: 1000,
      tls: { cert: join(dir, "certs/tls.crt"), key: join(dir, "certs/tls.key") },
      http2: true,
      compression: { threshold: 2048, encodings: ["gzip"] },
    });
  });

  it("should take compression: true for the defaults and h2c", () => {
    expect(read("  compression: true\n  http2: h2c").options).toMatchObject({
      compression: {},
      http2: "h2c",
    });
  });

  const bad: Array<[string, string, RegExp]> = [
    [
      "a timeout that is no duration",
      "  requestTimeout: soon",
      /server\.requestTimeout: expected a duration/,
    ],
    [
      "headers allowed longer than the request",
      "  requestTimeout: 5s\n  headersTimeout: 10s",
      /server\.headersTimeout: must not be above requestTimeout/,
    ],
    ["no connections", "  maxConnections: 0", /server\.maxConnections: expected a positive integer/],
    ["a certificate without key", "  tls: { cert: a.pem }", /server\.tls: needs both cert and key/],
    ["HTTP/2 by ALPN without TLS", "  http2: true", /server\.http2: HTTP\/2 with ALPN needs server\.tls/],
    ["h2c with TLS", "  http2: h2c\n  tls: { cert: a.pem, key: b.pem }", /server\.http2: h2c is cleartext/],
    ["an unknown http2 value", "  http2: h3", /server\.http2: expected true, false or "h2c"/],
    [
      "an unknown encoding",
      "  compression: { encodings: [zstd] }",
      /server\.compression\.encodings: expected a list of: br, gzip, deflate/,
    ],
    ["an unknown compression key", "  compression: { level: 9 }", /server\.compression\.level: unknown key/],
  ];
  it.each(bad)("should refuse %s, naming the key", (_name, server, message) => {
    const err = (() => {
      try {
        read(server);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).code).toBe("CONFIG_INVALID");
    expect((err as Error).message).toMatch(message);
  });

  it("should refuse to start with certificate files that cannot be read", async () => {
    await expect(
      createGateway({
        protos: [TEST_PROTOS],
        logLevel: false,
        tls: { cert: "/no/cert.pem", key: "/no/key.pem" },
      }),
    ).rejects.toThrow(/CONFIG_INVALID: server\.tls: .*no such file/);
  });

  it("should give the public listener the documented defaults", async () => {
    const gw = await createGateway({ protos: [TEST_PROTOS], logLevel: false });
    expect(gw.app.server).toMatchObject({
      requestTimeout: 30_000,
      headersTimeout: 10_000,
      keepAliveTimeout: 72_000,
    });
    expect(gw.app.server.maxConnections).toBeUndefined();
    await gw.close();
  });
});
