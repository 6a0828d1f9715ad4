import { Socket } from "node:net";

/**
 * Tests that need RabbitMQ or Redis run in CI, always. Outside CI, when the service is not reachable,
 * they are skipped with a loud message saying how to start it; under CI=true they fail instead.
 */
const HOW_TO_START: Record<string, string> = {
  redis: 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
  rabbitmq: "rabbitmq-server -detached",
};

export async function reachable(port: number, host = "127.0.0.1", timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once("error", () => done(false));
    s.connect(port, host, () => done(true));
  });
}

/** True if the tests of `service` should be skipped (only outside CI, and said loudly). */
export async function skipUnless(service: "redis" | "rabbitmq", port: number): Promise<boolean> {
  if (await reachable(port)) return false;
  if (process.env.CI === "true")
    throw new Error(`${service} is not reachable on 127.0.0.1:${port}, and CI=true: failing`);
  console.warn(
    `\n!!! SKIPPING ${service} tests: nothing listens on 127.0.0.1:${port}. Start it with:\n!!!   ${HOW_TO_START[service]}\n`,
  );
  return true;
}
