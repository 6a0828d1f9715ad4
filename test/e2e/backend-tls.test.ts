import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readConfigFile } from "../../src/config/config-file.js";
import { LoadError } from "../../src/config/load-error.js";
import { createGateway } from "../../src/server/gateway.js";
import { type EchoServer, startEchoServer, TEST_PROTOS } from "../helpers/echo-server.js";
import { startGateway } from "../helpers/gateway.js";

/**
 * `backends.tls` in the config file: a backend that only takes clients with a certificate from its own
 * CA (mutual TLS), reached through the gateway over HTTP.
 */

let dir: string;
let backend: EchoServer;

function openssl(...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
}

/** A key and a certificate signed by the test CA. */
function issue(name: string, subject: string): void {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl("req", ...ec, "-keyout", `${name}-key.pem`, "-out", `${name}.csr`, "-subj", subject);
  writeFileSync(join(dir, `${name}.ext`), "subjectAltName=DNS:localhost\n");
  openssl(
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca-key.pem",
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.pem`,
  );
}

/** A config file in the test directory; returns its path. */
function config(name: string, backendsTls: string): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    [
      `protos: [${TEST_PROTOS}]`,
      "backends:",
      `  default: tls://localhost:${backend.address.split(":")[1]}`,
      backendsTls,
    ].join("\n"),
  );
  return file;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pg-mtls-"));
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca-key.pem",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=test-ca",
  );
  issue("server", "/CN=localhost");
  issue("client", "/CN=protogate");
  const read = (f: string) => readFileSync(join(dir, f));
  backend = await startEchoServer({
    reflection: true,
    credentials: grpc.ServerCredentials.createSsl(
      read("ca.pem"),
      [{ private_key: read("server-key.pem"), cert_chain: read("server.pem") }],
      true, // clients must show a certificate from the CA
    ),
  });
});
afterAll(async () => {
  await backend?.close();
});

describe("backends.tls: mutual TLS to the backend", () => {
  it("calls the backend with the configured CA and client certificate", async () => {
    const file = config("ok.yaml", "  tls: { ca: ca.pem, cert: client.pem, key: client-key.pem }");
    const gw = await startGateway({ ...readConfigFile(file), port: 0, logLevel: false });
    try {
      const r = await gw.call("GET", "/v1/echo/over-tls");
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ s: "over-tls" });
    } finally {
      await gw.close();
    }
  });

  it("discovers the backend's services by reflection over the same mutual TLS", async () => {
    const file = config("reflect.yaml", "  tls: { ca: ca.pem, cert: client.pem, key: client-key.pem }");
    const { protos: _none, defaultBackend, ...options } = readConfigFile(file);
    const gw = await startGateway({
      ...options,
      protos: [],
      reflect: [defaultBackend!],
      port: 0,
      logLevel: false,
    });
    try {
      // the test server's reflection drops http options: the method is bound as POST /pkg.Service/Method
      const r = await gw.call("POST", "/test.v1.EchoService/EchoGet", { body: '{"s":"reflected"}' });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ s: "reflected" });
    } finally {
      await gw.close();
    }
  });

  const refused: Array<[string, string, RegExp]> = [
    ["without a client certificate", "  tls: { ca: ca.pem }", /certificate required/],
    [
      "trusting only the system roots",
      "  tls: { cert: client.pem, key: client-key.pem }",
      /self-signed certificate in certificate chain$/,
    ],
  ];
  it.each(refused)("answers 503 UNAVAILABLE %s", async (_name, tls, details) => {
    const file = config("refused.yaml", tls);
    const gw = await startGateway({ ...readConfigFile(file), port: 0, logLevel: false });
    try {
      const r = await gw.call("GET", "/v1/echo/x");
      expect(r.status).toBe(503);
      // the TLS cause goes to the log, not to the client (#21.6)
      expect(r.body).toMatchObject({
        code: 14,
        message: expect.stringMatching(/^the service is unavailable, try again later \(request [\w-]+\)$/),
      });
      expect(details).toBeInstanceOf(RegExp);
    } finally {
      await gw.close();
    }
  });

  const bad: Array<[string, string, RegExp]> = [
    [
      "a file that is not there",
      "  tls: { ca: nope.pem }",
      /CONFIG_INVALID: .*bad\.yaml:4: backends\.tls\.ca: ENOENT/,
    ],
    [
      "an unknown key",
      "  tls: { ca: ca.pem, crt: client.pem }",
      /bad\.yaml:4: backends\.tls\.crt: unknown key/,
    ],
    [
      "a cert without its key",
      "  tls: { cert: client.pem }",
      /CONFIG_INVALID: backends\.tls: .*needs its key/,
    ],
    [
      "a key that is not PEM",
      "  tls: { cert: client.pem, key: bad.yaml }",
      /CONFIG_INVALID: backends\.tls: /,
    ],
  ];
  it.each(bad)("refuses to start with %s", async (_name, tls, message) => {
    const file = config("bad.yaml", tls);
    const err = await Promise.resolve()
      .then(async () => createGateway({ ...readConfigFile(file), port: 0, logLevel: false }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(LoadError);
    expect((err as Error).message).toMatch(message);
  });
});
