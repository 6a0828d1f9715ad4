import { parseDurationMs } from "../config/duration.js";
import { LoadError } from "../config/load-error.js";
import { asObject, onlyKeys } from "../config/validate.js";
import { Code } from "../errors/code.js";
import { GatewayError } from "../errors/gateway-error.js";
import type { Interceptor } from "./interceptor.js";
import { readCodes } from "./retry/policy.js";

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

/**
 * `fault: { delay: { percent: 10, duration: 2s }, abort: { percent: 5, code: UNAVAILABLE } }`.
 * Throws LoadError (CONFIG_INVALID) naming `where`.
 */
export function readFaultPolicy(v: unknown, where: string): FaultPolicy {
  const o = asObject(v, where);
  onlyKeys(o, ["delay", "abort"], where);
  const out: { delay?: FaultPolicy["delay"]; abort?: FaultPolicy["abort"] } = {};
  if (o.delay !== undefined) {
    const d = asObject(o.delay, `${where}.delay`);
    onlyKeys(d, ["percent", "duration"], `${where}.delay`);
    const ms = parseDurationMs(d.duration);
    if (!ms)
      throw new LoadError("CONFIG_INVALID", `${where}.delay.duration`, 'expected a duration such as "2s"');
    out.delay = { percent: percent(d.percent, `${where}.delay.percent`), ms };
  }
  if (o.abort !== undefined) {
    const a = asObject(o.abort, `${where}.abort`);
    onlyKeys(a, ["percent", "code"], `${where}.abort`);
    out.abort = {
      percent: percent(a.percent, `${where}.abort.percent`),
      code: readCodes(a.code, `${where}.abort.code`)[0]!,
    };
  }
  return out;
}

function percent(v: unknown, where: string): number {
  if (typeof v !== "number" || v < 0 || v > 100)
    throw new LoadError("CONFIG_INVALID", where, "expected a percentage from 0 to 100");
  return v;
}
