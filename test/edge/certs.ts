import { execFileSync } from "node:child_process";
import { renameSync } from "node:fs";
import { join } from "node:path";

/**
 * Writes a self-signed EC certificate for 127.0.0.1/localhost with subject CN=`cn` to `dir`/cert.pem and
 * `dir`/key.pem, by openssl; both files are replaced by rename, as a secret mount or cert-manager does.
 */
export function writeCert(dir: string, cn: string): void {
  const key = join(dir, `.${cn}-key.pem`);
  const cert = join(dir, `.${cn}-cert.pem`);
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", key, "-out", cert, "-days", "1", "-subj", `/CN=${cn}`],
      ...["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
    ],
    { stdio: "ignore" },
  );
  renameSync(key, join(dir, "key.pem"));
  renameSync(cert, join(dir, "cert.pem"));
}
