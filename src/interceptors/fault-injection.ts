import { parseDurationMs } from "../config/duration.js";
import { checkShape } from "../config/schema-check.js";
import { duration, type JsonSchema, object, oneOf } from "../config/schema-kit.js";
import { Code } from "../errors/code.js";
import { GatewayError } from "../errors/gateway-error.js";
import type { Interceptor } from "./interceptor.js";
import { CODE_NAMES, codesOf } from "./retry/policy.js";

/**
 * Faults injected into a method's calls (per method `fault:`, off by default), so that users can test
 * their clients and the gateway's retries and breakers: `delay` holds a share of calls before they
 * go upstream; `abort` fails a share without calling the backend, with the given code.
 */
export interface FaultPolicy {
  readonly delay?: { readonly percent: number; readonly ms: number };
  readonly abort?: { readonly percent: number; readonly code: number };
}

declare module "../routing/route.js" {
  interface RouteSettings {
    /** Faults injected into this route's calls; none when undefined. */
    readonly fault?: FaultPolicy | undefined;
  }
}

/** The cause of an injected abort, for logs: the answer looks like the backend's own failure. */
export class InjectedFault extends Error {
  override readonly name = "InjectedFault";
}

/**
 * Innermost interceptor: the retry and breaker interceptors see an injected abort as a failure of the
 * backend (which is what it stands for), and an injected delay as a slow backend.
 */
export function faultInjectionInterceptor(random: () => number = Math.random): Interceptor {
  return {
    name: "faultInjection",
    wrap(next, route) {
      const fault = route.settings.fault;
      if (!fault?.abort && !fault?.delay) return next;
      const { abort, delay } = fault;
      return (call, done) => {
        if (abort && random() * 100 < abort.percent) {
          const err = new GatewayError(abort.code as never, "fault injected by the gateway", {
            cause: new InjectedFault(`abort ${abort.code}`),
          });
          queueMicrotask(() => done(err, undefined));
          return noop;
        }
        if (!delay || random() * 100 >= delay.percent) return next(call, done);
        let cancel: (() => void) | undefined;
        const timer = setTimeout(() => {
          cancel = next(call, done);
        }, delay.ms);
        return () => {
          if (cancel) return cancel();
          clearTimeout(timer);
          cancel = noop; // the call never went out: it ends the way a cancelled call ends
          queueMicrotask(() => done(new GatewayError(Code.CANCELLED, "cancelled by the client"), undefined));
        };
      };
    },
  };
}

function noop(): void {}

const percent: JsonSchema = { description: "Share of calls, %.", type: "number", minimum: 0, maximum: 100 };

/** Per-method `fault:` (off unless set). */
export const faultPolicySchema: JsonSchema = object("Faults injected into the method's calls (testing).", {
  delay: object(
    "Hold a share of calls before they go upstream.",
    { percent, duration: duration("How long.", { positive: true }) },
    { required: ["percent", "duration"] },
  ),
  abort: object(
    "Fail a share of calls without calling the backend.",
    { percent, code: oneOf("The gRPC code to fail with.", CODE_NAMES) },
    { required: ["percent", "code"] },
  ),
});

/** Reads a `fault:` entry; throws LoadError (CONFIG_INVALID) naming `where`. */
export function readFaultPolicy(v: unknown, where: string): FaultPolicy {
  const o = checkShape<{
    delay?: { percent: number; duration: string | number };
    abort?: { percent: number; code: string };
  }>(faultPolicySchema, v, where);
  return {
    ...(o.delay ? { delay: { percent: o.delay.percent, ms: parseDurationMs(o.delay.duration)! } } : {}),
    ...(o.abort ? { abort: { percent: o.abort.percent, code: codesOf(o.abort.code)[0]! } } : {}),
  };
}
