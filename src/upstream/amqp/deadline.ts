import type { UpstreamCall } from "../call.js";
import type { AmqpBinding } from "./config.js";

/**
 * How long an rpc waits for its reply, ms: the binding's timeout, or less when the call has less time
 * left (the route's deadline, the client's Grpc-Timeout, or what retries left of it).
 */
export function replyTimeoutMs(call: UpstreamCall, binding: AmqpBinding): number {
  return call.timeoutMs > 0 ? Math.min(call.timeoutMs, binding.timeoutMs) : binding.timeoutMs;
}

/** When the broker must have confirmed a command's message (epoch ms): the confirm timeout from now. */
export function confirmDeadline(confirmTimeoutMs: number): number {
  return Date.now() + confirmTimeoutMs;
}
