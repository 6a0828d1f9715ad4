import { Code } from "./code.js";

/** A `google.protobuf.Any` already rendered as proto3 JSON (`@type` plus fields). */
export type AnyJson = { "@type": string } & Record<string, unknown>;

export interface GatewayErrorOptions {
  details?: AnyJson[];
  /** Overrides the table for the gateway's own errors that HTTP names better (405, 413). */
  httpStatus?: number;
  /** Extra response headers (Allow, Retry-After, gRPC metadata). */
  headers?: Record<string, string | string[]>;
  cause?: unknown;
}

/** Every error a client sees: a gRPC code, a message and optional details, i.e. a google.rpc.Status. */
export class GatewayError extends Error {
  readonly code: Code;
  readonly details: AnyJson[];
  readonly httpStatus: number | undefined;
  readonly headers: Record<string, string | string[]> | undefined;

  constructor(code: Code, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GatewayError";
    this.code = code;
    this.details = options.details ?? [];
    this.httpStatus = options.httpStatus;
    this.headers = options.headers;
  }

  /** Normalises anything thrown into a GatewayError; unexpected errors become INTERNAL. */
  static from(err: unknown): GatewayError {
    if (err instanceof GatewayError) return err;
    return new GatewayError(Code.INTERNAL, "internal error", { cause: err });
  }
}

/** Shorthand for the most common gateway error: the client sent something we cannot use. */
export function invalidArgument(message: string, cause?: unknown): GatewayError {
  return new GatewayError(Code.INVALID_ARGUMENT, message, { cause });
}
