import type { FastifyReply, FastifyRequest } from "fastify";
import type { Route } from "../routing/route.js";
import { httpDuration, httpRequestSize, httpResponseSize, requestEnded, requestStarted } from "./metrics.js";
import { routeLabel } from "./route-label.js";

type Observer = { observe(v: number): void };

/** One route's series, bound once: a request adds to them without building a label object. */
class RouteSeries {
  readonly requestSize: Observer;
  readonly responseSize: Observer;
  // outcome -> HTTP status -> child of the duration histogram
  private readonly durations = new Map<string, Map<number, Observer>>();
  // the same route's series for other HTTP methods (a WebSocket upgrade, a GET, to a POST rule)
  private others: Map<string, RouteSeries> | undefined;

  constructor(
    readonly method: string,
    private readonly route: string,
  ) {
    this.requestSize = httpRequestSize.labels(method, route);
    this.responseSize = httpResponseSize.labels(method, route);
  }

  /** This route's series for `method` (this one when it is the method they were made for). */
  forMethod(method: string): RouteSeries {
    if (method === this.method) return this;
    this.others ??= new Map();
    let s = this.others.get(method);
    if (!s) this.others.set(method, (s = new RouteSeries(method, this.route)));
    return s;
  }

  duration(status: number, outcome: string): Observer {
    let byStatus = this.durations.get(outcome);
    if (!byStatus) this.durations.set(outcome, (byStatus = new Map()));
    let child = byStatus.get(status);
    if (!child)
      byStatus.set(status, (child = httpDuration.labels(this.method, this.route, String(status), outcome)));
    return child;
  }
}

// Matched requests by their route object (a reload brings new ones; the old are collected); the others
// (static endpoints, misses) by "METHOD route", a bounded set.
const byRoute = new WeakMap<Route, RouteSeries>();
const byName = new Map<string, RouteSeries>();

function seriesOf(req: FastifyRequest): RouteSeries {
  const route = req.gateway?.match.route;
  if (route) {
    let s = byRoute.get(route);
    if (!s) byRoute.set(route, (s = new RouteSeries(req.method, route.template.source)));
    return s.forMethod(req.method);
  }
  const label = routeLabel(req);
  const key = `${req.method} ${label}`;
  let s = byName.get(key);
  if (!s) byName.set(key, (s = new RouteSeries(req.method, label)));
  return s;
}

/**
 * The request's body size: the bytes counted while a streamed body was read (`notes.bytesIn`: an NDJSON
 * client stream, a WebSocket session's messages), else Content-Length, else the body read, else 0.
 */
export function requestBytes(req: FastifyRequest): number {
  const counted = req.gateway?.notes?.bytesIn;
  if (counted !== undefined) return counted;
  const declared = req.headers["content-length"];
  if (declared !== undefined) return Number(declared) || 0;
  const body = req.body;
  return Buffer.isBuffer(body) ? body.length : typeof body === "string" ? Buffer.byteLength(body) : 0;
}

/**
 * The response's body size as sent: the bytes counted while a streamed answer was written
 * (`notes.bytesOut`: NDJSON, SSE, JSON array, WebSocket messages; such answers have no Content-Length),
 * else Content-Length, else 0 (e.g. no body).
 */
export function responseBytes(reply: FastifyReply): number {
  const counted = reply.request.gateway?.notes?.bytesOut;
  if (counted !== undefined) return counted;
  const n = reply.getHeader("content-length");
  return n === undefined ? 0 : Number(n) || 0;
}

/** onRequest part: one more request in flight. */
export function countRequestIn(): void {
  requestStarted();
}

/**
 * onResponse part: the request's duration (seconds) labelled method, route, status and upstream
 * outcome (`none` when no upstream was called), and both body sizes.
 */
export function recordRequest(req: FastifyRequest, reply: FastifyReply): void {
  requestEnded();
  const series = seriesOf(req);
  const outcome = req.gateway?.notes?.outcome ?? "none";
  series.duration(reply.statusCode, outcome).observe(reply.elapsedTime / 1000);
  series.requestSize.observe(requestBytes(req));
  series.responseSize.observe(responseBytes(reply));
}
