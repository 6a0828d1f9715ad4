import { afterAll, beforeAll, beforeEach } from "vitest";
import type { GatewayOptions } from "../../src/config/options.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { type ScriptedServer, startScriptedServer } from "../helpers/scripted-server.js";

/** A scripted backend and a gateway in front of it, for one describe block; calls reset before each test. */
export interface Fixture {
  readonly backend: ScriptedServer;
  readonly gw: RunningGateway;
}

/**
 * Registers the hooks that start a scripted backend and a gateway with `options` before the block's
 * tests, echo by default and with an empty call log before each test, and close both after.
 */
export function scriptedGateway(options: Partial<GatewayOptions>): Fixture {
  const f = {} as { backend: ScriptedServer; gw: RunningGateway };
  beforeAll(async () => {
    f.backend = await startScriptedServer();
    f.gw = await startGateway({ backend: f.backend.address, ...options });
  });
  afterAll(async () => {
    await f.gw?.close();
    await f.backend?.close();
  });
  beforeEach(() => {
    f.backend.calls.length = 0;
    f.backend.behave(() => ({ reply: "echo" }));
  });
  return f;
}
