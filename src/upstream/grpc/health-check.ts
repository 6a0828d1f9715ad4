import protobuf from "protobufjs";
import { Code } from "../../errors/code.js";
import { Metadata } from "../call-metadata.js";
import type { BackendAddress } from "./address.js";
import { grpcTimeoutText } from "./deadline.js";
import { H2Error } from "./h2/frame.js";
import type { HeaderField } from "./h2/hpack.js";
import type { HpackEncoder } from "./h2/hpack-encoder.js";
import type { H2Session, StreamError, StreamHandler } from "./h2/session.js";
import {
  codeForReset,
  encodeRequestHeaders,
  MESSAGE_PREFIX,
  parseResponseHeaders,
  type ResponseHead,
  requestHeaderListSize,
  responseStatus,
  splitMessages,
} from "./wire.js";

const CHECK_PATH = "/grpc.health.v1.Health/Check";
const NO_METADATA = new Metadata();

/** grpc.health.v1.HealthCheckResponse.ServingStatus, and what a check that got no answer reports. */
export type HealthAnswer = "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN" | "UNKNOWN" | "FAILED";
const STATUS_NAMES: readonly HealthAnswer[] = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"];

/**
 * One grpc.health.v1.Health/Check on `session` (grpc/health/v1/health.proto), bounded by `timeoutMs`.
 * `done` gets the serving status exactly once, never synchronously: UNIMPLEMENTED (no Health service)
 * gives SERVING, as the issue asks; a timeout, a transport error or any other status gives FAILED.
 * The two messages are tiny and coded here with protobufjs's Writer and Reader: HealthCheckRequest is
 * `string service = 1`, HealthCheckResponse is `ServingStatus status = 1`.
 */
export function checkHealth(
  session: H2Session,
  target: BackendAddress,
  service: string,
  timeoutMs: number,
  done: (answer: HealthAnswer, detail: string) => void,
): void {
  const check = new HealthCall(target, timeoutMs, done);
  check.cancel = session.request(encodeRequest(service), check);
}

/** The framed HealthCheckRequest: prefix, then field 1 when the name is not empty (proto3). */
export function encodeRequest(service: string): Buffer {
  const w = protobuf.Writer.create();
  if (service !== "") w.uint32(0x0a).string(service); // field 1, length-delimited
  const body = w.finish();
  const framed = Buffer.alloc(MESSAGE_PREFIX + body.length);
  framed.writeUInt32BE(body.length, 1);
  framed.set(body, MESSAGE_PREFIX);
  return framed;
}

/** The status of a HealthCheckResponse body; unknown fields are skipped, a malformed body is UNKNOWN. */
export function decodeResponse(body: Buffer): HealthAnswer {
  const r = protobuf.Reader.create(body);
  let status = 0;
  try {
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag === 0x08) status = r.int32();
      else r.skipType(tag & 7);
    }
  } catch {
    return "UNKNOWN"; // truncated or malformed
  }
  return STATUS_NAMES[status] ?? "UNKNOWN";
}

class HealthCall implements StreamHandler {
  cancel: ((code?: number) => void) | undefined;
  private finished = false;
  private readonly head: ResponseHead = {
    httpStatus: 0,
    contentType: "",
    statusText: undefined,
    statusMessage: undefined,
  };
  private readonly chunks: Buffer[] = [];
  private received = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly timeout: string;

  constructor(
    private readonly target: BackendAddress,
    timeoutMs: number,
    private readonly done: (answer: HealthAnswer, detail: string) => void,
  ) {
    this.timeout = grpcTimeoutText(timeoutMs);
    this.timer = setTimeout(() => {
      this.finish("FAILED", `no answer within ${timeoutMs} ms`);
      this.cancel?.(H2Error.CANCEL);
    }, timeoutMs);
    this.timer.unref();
  }

  private finish(answer: HealthAnswer, detail: string): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    process.nextTick(this.done, answer, detail);
  }

  encodeHeaders(encoder: HpackEncoder): void {
    encodeRequestHeaders(encoder, this.target, CHECK_PATH, this.timeout, NO_METADATA);
  }

  headerListSize(): number {
    return requestHeaderListSize(
      this.target.tls,
      this.target.authority,
      CHECK_PATH,
      this.timeout,
      NO_METADATA,
    );
  }

  onHeaders(fields: HeaderField[], endStream: boolean): void {
    parseResponseHeaders(this.head, fields, this.head.httpStatus !== 0 || endStream);
  }

  onData(chunk: Buffer): void {
    this.received += chunk.length;
    if (this.received < 4096) this.chunks.push(chunk);
  }

  onClose(error: StreamError | undefined): void {
    if (error && this.head.statusText === undefined) {
      this.finish("FAILED", `${codeName(codeForReset(error))}: ${error.message}`);
      return;
    }
    const { code, details } = responseStatus(this.head);
    if (code === Code.UNIMPLEMENTED) {
      this.finish("SERVING", "no Health service: taken as serving");
      return;
    }
    if (code !== Code.OK) {
      this.finish("FAILED", `status ${code}: ${details}`);
      return;
    }
    const messages = splitMessages(this.chunks, this.received);
    if (typeof messages === "string" || messages.length !== 1) {
      this.finish("FAILED", "malformed HealthCheckResponse");
      return;
    }
    const answer = decodeResponse(messages[0]!);
    this.finish(answer, answer);
  }
}

function codeName(code: number): keyof typeof Code {
  return (Object.keys(Code) as (keyof typeof Code)[]).find((k) => Code[k] === code) ?? "UNKNOWN";
}
