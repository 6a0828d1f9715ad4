import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { type AuthConfig, readAuthConfig } from "../../src/policies/auth/config.js";

/**
 * A JWT issuer for the documents' tests: the gateway's auth config (default "authenticated"), and what a
 * user pastes into Swagger UI's "Authorize": a token of subject u-1 with the scopes the operation lists
 * and the claim `tenant: acme`.
 */
export async function documentIssuer(): Promise<{
  auth: AuthConfig;
  sign: (scopes: string[]) => Promise<string>;
}> {
  const keys = await generateKeyPair("ES256");
  const auth = readAuthConfig(
    {
      providers: [{ issuer: "https://i.test", keys: [{ pem: await exportSPKI(keys.publicKey) }] }],
      default: "authenticated",
    },
    "auth",
  );
  const sign = (scopes: string[]) =>
    new SignJWT({ sub: "u-1", scope: scopes.join(" "), tenant: "acme" })
      .setProtectedHeader({ alg: "ES256" })
      .setIssuer("https://i.test")
      .setExpirationTime("5m")
      .sign(keys.privateKey);
  return { auth, sign };
}
