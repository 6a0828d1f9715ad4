import { type ServerResponse, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { Code } from "../errors/code.js";
import { GatewayError } from "../errors/gateway-error.js";
import { renderError } from "../errors/status-json.js";

/** What the gateway answers to a request Node refuses before any route runs. */
const HEADERS_TOO_LARGE = new GatewayError(
  Code.RESOURCE_EXHAUSTED,
  "request headers are larger than the configured limit",
  { httpStatus: 431 },
);
const TIMED_OUT = new GatewayError(
  Code.DEADLINE_EXCEEDED,
  "the request was not received in time (server.headersTimeout / server.requestTimeout)",
  { httpStatus: 408 },
);
const MALFORMED = new GatewayError(Code.INVALID_ARGUMENT, "malformed HTTP request");
/** RFC 9112 section 3.2: an HTTP/1.1 request without Host is a 400. */
export const NO_HOST = new GatewayError(Code.INVALID_ARGUMENT, "the request has no Host header");
/** RFC 9110 section 10.1.1: an expectation the server cannot meet is a 417. */
export const BAD_EXPECT = new GatewayError(
  Code.FAILED_PRECONDITION,
  'unsupported Expect header: only "100-continue" is understood',
  { httpStatus: 417 },
);

const answered = new WeakSet<Socket>();

/**
 * Node's `clientError` (a malformed request, a head over maxHeaderSize, a request not received within
 * headersTimeout/requestTimeout), answered as google.rpc.Status on the raw socket, then the connection
 * is closed. A response still owed on that connection to an earlier pipelined request is written first.
 */
export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (answered.has(socket)) return; // the parser reports its error again for every later chunk
  answered.add(socket);
  if (err.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const gwErr =
    err.code === "HPE_HEADER_OVERFLOW"
      ? HEADERS_TOO_LARGE
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? TIMED_OUT
        : MALFORMED;
  afterOwedResponses(socket, () => writeRaw(socket, gwErr));
}

/**
 * Runs `then` once the responses to the requests already received on the socket are written. A response
 * whose request is not complete is the one the error is about: it is abandoned (and the socket cut if
 * its head already went out, as there is then no way to answer).
 */
function afterOwedResponses(socket: Socket, then: () => void): void {
  // Node's own pointer to the response being written on this socket (later pipelined ones queue behind).
  const owed = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (!owed) {
    then();
    return;
  }
  if (!owed.req.complete) {
    if (owed.headersSent) socket.destroy();
    else then();
    return;
  }
  // Node's own 'finish' listener runs first and hands the socket to the next queued response, if any.
  owed.once("finish", () => (socket.writable ? afterOwedResponses(socket, then) : socket.destroy()));
  owed.once("close", () => {
    if (!owed.writableFinished) socket.destroy();
  });
}

function writeRaw(socket: Socket, err: GatewayError): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const { status, body } = renderError(err);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Answers a request Node hands over but the gateway refuses before routing (no Host, bad Expect). */
export function refuse(res: ServerResponse, err: GatewayError): void {
  const { status, body } = renderError(err);
  res.shouldKeepAlive = false;
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    connection: "close",
  });
  res.end(body);
}
