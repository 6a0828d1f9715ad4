import { Code } from "../../errors/code.js";
import { GatewayError } from "../../errors/gateway-error.js";
import type { Invoke } from "../../upstream/call.js";

/**
 * The `invoke` of a streaming route: never called (the handler serves streams through
 * serveStream), but a route always has one; if it ever is, the call fails instead of hanging.
 */
export const notUnary: Invoke = (_call, done) => {
  queueMicrotask(() =>
    done(new GatewayError(Code.INTERNAL, "a streaming route was called as unary"), undefined),
  );
  return () => undefined;
};
