import type * as grpc from "@grpc/grpc-js";

/** The result of a unary call: the answer's bytes and both sets of metadata. */
export interface UnaryResult {
  readonly status: grpc.StatusObject;
  readonly message: Buffer | undefined;
  readonly headers: grpc.Metadata | undefined;
}

const identity = (b: Buffer): Buffer => b;

/**
 * A unary call with raw buffers: the gateway's codec has already encoded the request, so grpc-js only
 * frames bytes. Resolves on the final status (OK or not); `cancel` aborts it (client went away).
 */
export function callUnary(
  client: grpc.Client,
  path: string,
  request: Uint8Array,
  metadata: grpc.Metadata,
  timeoutMs: number,
): { result: Promise<UnaryResult>; cancel: () => void } {
  let message: Buffer | undefined;
  let headers: grpc.Metadata | undefined;
  let call: grpc.ClientUnaryCall | undefined;
  const options: grpc.CallOptions = timeoutMs > 0 ? { deadline: Date.now() + timeoutMs } : {};
  const buf = Buffer.isBuffer(request)
    ? request
    : Buffer.from(request.buffer, request.byteOffset, request.byteLength);
  const result = new Promise<UnaryResult>((resolve) => {
    call = client.makeUnaryRequest(path, identity, identity, buf, metadata, options, (_err, value) => {
      message = value;
    });
    call.on("metadata", (md: grpc.Metadata) => {
      headers = md;
    });
    // grpc-js emits "status" after the callback, for success and failure alike.
    call.on("status", (status: grpc.StatusObject) => resolve({ status, message, headers }));
  });
  return { result, cancel: () => call?.cancel() };
}
