import { Code } from "../../errors/code.js";
import { GatewayError } from "../../errors/gateway-error.js";
import type { Cancel, Invoke } from "../../upstream/call.js";

/**
 * Wraps `next` so that a call with a pending admission goes on only once admitted; a refused call
 * ends with the refusal and never reaches `next`. Calls without one go straight to `next`.
 */
export function admitFirst(next: Invoke): Invoke {
  return (call, done) => {
    const admission = call.admission;
    if (!admission?.pending) return next(call, done);
    let cancelled = false;
    let cancelNext: Cancel | undefined;
    admission.admit((refusal) => {
      if (cancelled) return;
      if (refusal) done(refusal, undefined);
      else cancelNext = next(call, done);
    });
    return () => {
      if (cancelled) return;
      cancelled = true;
      if (cancelNext) cancelNext();
      else done(new GatewayError(Code.CANCELLED, "the client went away"), undefined);
    };
  };
}
