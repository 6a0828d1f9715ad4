import { lookup } from "node:dns/promises";
import * as net from "node:net";
import * as tls from "node:tls";
import { Code } from "../../errors/code.js";
import { type BackendAddress, type Endpoint, parseAddress } from "./address.js";
import { type BalancingConfig, DEFAULT_BALANCING } from "./balancing.js";
import { timerDelay } from "./deadline-lists.js";
import { H2Error } from "./h2/frame.js";
import { H2Session, type SessionOptions } from "./h2/session.js";
import { checkHealth, type HealthAnswer } from "./health-check.js";

/**
 * A channel to one backend address: one HTTP/2 connection per resolved endpoint (a subchannel), calls
 * spread over the connected ones round robin or by least requests (balancing.ts). Endpoints that keep
 * failing are ejected for a while, and endpoints whose health check says NOT_SERVING are left out;
 * when nothing else is connected, they are used all the same (better a doubtful endpoint than none). Connections are made on first use, re-made with
 * exponential backoff when they fail, and replaced at once when the server drains them (GOAWAY).
 * While nothing is connected yet, calls wait for a connection; when every endpoint has failed, they
 * fail at once with the last error (gRPC's fail-fast rule), and DNS is asked again.
 */

export interface ChannelOptions extends SessionOptions {
  readonly connectTimeoutMs: number;
  /** For tls:// backends: the CA to trust instead of the system roots, a client certificate and key. */
  readonly tls?: BackendTls;
  /** Balancing policy, outlier ejection, health checks; DEFAULT_BALANCING when absent. */
  readonly balancing?: BalancingConfig;
}

/** PEM texts. */
export interface BackendTls {
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

export const DEFAULT_CHANNEL_OPTIONS: ChannelOptions = {
  keepaliveMs: 30_000,
  keepaliveTimeoutMs: 10_000,
  maxHeaderListSize: 1024 * 1024,
  connectTimeoutMs: 20_000,
};

/** A call that needs a connection (unary.ts, stream.ts): see startCall. */
export interface ChannelCall {
  /** The call has ended meanwhile (deadline, cancel): a session that comes now is not used. */
  isDone(): boolean;
  send(session: H2Session): void;
  /** No connection: every endpoint failed, or the channel is closed. */
  noConnection(reason: string): void;
}

/**
 * Sends `call` on a ready session now, or once one is ready. Returns the function that withdraws a
 * call still waiting (undefined when it did not wait). No closure is made when a session is ready.
 */
export function startCall(channel: Channel, call: ChannelCall): (() => void) | undefined {
  const session = channel.pick();
  if (session) {
    call.send(session);
    return undefined;
  }
  return channel.whenReady((ready, error) => {
    if (call.isDone()) return;
    if (ready) call.send(ready);
    else call.noConnection(error ?? "no connection to the backend");
  });
}

/** Gets a ready session, or an error message; returns a function that withdraws the wish. */
type Waiter = (session: H2Session | undefined, error: string | undefined) => void;

const BACKOFF = { initialMs: 1000, multiplier: 1.6, jitter: 0.2, maxMs: 10_000 };
const MIN_RESOLVE_INTERVAL_MS = 5000;
/** What callEnded takes for a call that says nothing about the endpoint (refused, sent again). */
export const NEUTRAL_OUTCOME = -1;

/** One endpoint as GET /_protogate/status shows it (ms are from now). */
export interface EndpointStatus {
  readonly address: string;
  readonly state: SubchannelState;
  readonly inFlight: number;
  readonly consecutiveFailures: number;
  /** Set while the endpoint is ejected: how long it stays out. */
  readonly ejectedForMs?: number;
  readonly timesEjected: number;
  /** The last health check's answer, when checks are on. */
  readonly health?: HealthAnswer;
  readonly healthy: boolean;
  /** Why the last health checks failed, while unhealthy. */
  readonly healthDetail?: string;
  /** The last connection error, while not connected. */
  readonly lastError?: string;
}

export class Channel {
  readonly target: BackendAddress;
  private subchannels: Subchannel[] = [];
  private next = 0;
  private waiters: Waiter[] = [];
  private resolving: Promise<void> | undefined;
  private lastResolve = 0;
  private resolveError: string | undefined;
  private closed = false;
  private readonly balancing: BalancingConfig;
  /** Bit `1 << code` set for the call codes that count as an endpoint's failure (outlier detection). */
  private readonly failureCodes: number;
  private healthTimer: NodeJS.Timeout | undefined;
  /** Doubled when a server says our pings come too often (GOAWAY ENHANCE_YOUR_CALM "too_many_pings"). */
  keepaliveMs: number;

  constructor(
    readonly address: string,
    readonly options: ChannelOptions = DEFAULT_CHANNEL_OPTIONS,
  ) {
    this.target = parseAddress(address);
    this.keepaliveMs = options.keepaliveMs;
    this.balancing = options.balancing ?? DEFAULT_BALANCING;
    let mask = 0;
    for (const c of this.balancing.outlierDetection?.codes ?? []) mask |= 1 << c;
    this.failureCodes = mask;
    if (this.target.endpoints) this.setEndpoints(this.target.endpoints);
    const hc = this.balancing.healthCheck;
    if (hc) {
      this.healthTimer = setInterval(() => this.checkAll(), timerDelay(hc.intervalMs));
      this.healthTimer.unref();
    }
  }

  /**
   * A connected session by the balancing policy, among endpoints neither ejected nor unhealthy, else
   * among any connected one (panic mode); undefined when none is connected right now. No allocation.
   */
  pick(): H2Session | undefined {
    const sub =
      this.balancing.policy === "least_request" ? this.pickLeastRequest() : this.pickRoundRobin(true);
    return (sub ?? this.pickRoundRobin(false))?.session;
  }

  private pickRoundRobin(onlyUsable: boolean): Subchannel | undefined {
    const subs = this.subchannels;
    for (let i = 0; i < subs.length; i++) {
      const sub = subs[(this.next + i) % subs.length]!;
      if (sub.session?.isReady && (sub.usable || !onlyUsable)) {
        this.next = (this.next + i + 1) % subs.length;
        return sub;
      }
    }
    return undefined;
  }

  /** Power of two choices: of two usable endpoints drawn at random, the one with fewer calls in flight. */
  private pickLeastRequest(): Subchannel | undefined {
    const subs = this.subchannels;
    const n = subs.length;
    if (n >= 2) {
      // Two distinct endpoints at random: when both are in rotation (the usual case), that is all.
      const i = Math.floor(Math.random() * n);
      let j = Math.floor(Math.random() * (n - 1));
      if (j >= i) j++;
      const x = subs[i]!;
      const y = subs[j]!;
      if (x.usable && y.usable && x.session?.isReady && y.session?.isReady)
        return y.inFlight < x.inFlight ? y : x;
    }
    // Else the same draw among the endpoints in rotation only.
    let count = 0;
    for (const sub of subs) if (sub.usable && sub.session?.isReady) count++;
    if (count <= 1) return count === 1 ? this.pickRoundRobin(true) : undefined;
    const a = Math.floor(Math.random() * count);
    let b = Math.floor(Math.random() * (count - 1));
    if (b >= a) b++;
    let first: Subchannel | undefined;
    let second: Subchannel | undefined;
    let rank = 0;
    for (const sub of subs) {
      if (!(sub.usable && sub.session?.isReady)) continue;
      if (rank === a) first = sub;
      if (rank === b) second = sub;
      rank++;
    }
    return second!.inFlight < first!.inFlight ? second : first;
  }

  /** A call was sent on `session` (from pick): counted in flight for least_request. */
  callStarted(session: H2Session): void {
    for (const sub of this.subchannels) {
      if (sub.session === session) {
        sub.inFlight++;
        return;
      }
    }
  }

  /**
   * A call sent on `session` ended with `code` (NEUTRAL_OUTCOME: it says nothing about the endpoint).
   * A code in outlierDetection.codes is a failure; CANCELLED (the client left) and DEADLINE_EXCEEDED
   * (unless listed) are neutral; any other status is an answer, a success for outlier detection.
   */
  callEnded(session: H2Session, code: number): void {
    for (const sub of this.subchannels) {
      if (sub.session !== session) continue;
      if (sub.inFlight > 0) sub.inFlight--;
      if (code === NEUTRAL_OUTCOME) return;
      if ((this.failureCodes >>> code) & 1) this.endpointFailed(sub);
      else if (code !== Code.CANCELLED && code !== Code.DEADLINE_EXCEEDED) this.endpointAnswered(sub);
      return;
    }
  }

  private endpointAnswered(sub: Subchannel): void {
    sub.failures = 0;
    const od = this.balancing.outlierDetection;
    // Back for a whole base ejection time without being ejected again: the count starts over.
    if (od && sub.timesEjected > 0 && !sub.ejected && Date.now() - sub.returnedAt >= od.baseEjectionTimeMs)
      sub.timesEjected = 0;
  }

  /** @internal a call failed at `sub`, or a connection to it did. */
  endpointFailed(sub: Subchannel): void {
    const od = this.balancing.outlierDetection;
    if (!od || ++sub.failures < od.consecutiveFailures || sub.ejected) return;
    const n = this.subchannels.length;
    const share = Math.floor((n * od.maxEjectionPercent) / 100);
    const allowed = Math.min(n - 1, od.maxEjectionPercent > 0 ? Math.max(1, share) : 0);
    let ejected = 0;
    for (const s of this.subchannels) if (s.ejected) ejected++;
    if (ejected >= allowed) return;
    sub.timesEjected++;
    const ms = Math.min(
      Math.max(od.baseEjectionTimeMs, od.maxEjectionTimeMs),
      od.baseEjectionTimeMs * sub.timesEjected,
    );
    sub.eject(ms, () => this.onReady());
  }

  /** Health checks every connected endpoint that has no check in flight. */
  private checkAll(): void {
    const hc = this.balancing.healthCheck;
    if (!hc || this.closed) return;
    for (const sub of this.subchannels) {
      const session = sub.session;
      if (!session?.isReady || sub.checking) continue;
      sub.checking = true;
      checkHealth(session, this.target, hc.service, hc.timeoutMs, (answer, detail) => {
        sub.checking = false;
        if (this.closed || sub.session !== session) return;
        const wasUsable = sub.usable;
        sub.healthResult(answer, detail, hc);
        if (sub.usable && !wasUsable) this.onReady();
      });
    }
  }

  /** Each endpoint's connection, ejection and health state, for GET /_protogate/status. */
  status(): { policy: string; endpoints: EndpointStatus[] } {
    return { policy: this.balancing.policy, endpoints: this.subchannels.map((s) => s.status()) };
  }

  /** Calls `waiter` once with a ready session or the reason there is none. Returns a withdraw function. */
  whenReady(waiter: Waiter): () => void {
    const session = this.pick();
    if (session) {
      waiter(session, undefined);
      return noop;
    }
    if (this.closed) {
      waiter(undefined, "the channel is closed");
      return noop;
    }
    const failure = this.allFailed();
    if (failure !== undefined) {
      this.resolve(false);
      waiter(undefined, failure);
      return noop;
    }
    this.waiters.push(waiter);
    if (this.subchannels.length === 0) this.resolve(true);
    for (const sub of this.subchannels) if (sub.state === "idle") sub.connect();
    return () => {
      const i = this.waiters.indexOf(waiter);
      if (i >= 0) this.waiters.splice(i, 1);
    };
  }

  close(): void {
    this.closed = true;
    clearInterval(this.healthTimer);
    for (const sub of this.subchannels) sub.shutdown();
    this.subchannels = [];
    this.failWaiters("the channel is closed");
  }

  /** The reason calls fail now, when every endpoint is in backoff after a failure (or DNS failed). */
  private allFailed(): string | undefined {
    if (this.subchannels.length === 0) return this.resolveError;
    for (const sub of this.subchannels) if (sub.state !== "failure") return undefined;
    return this.subchannels[0]!.lastError;
  }

  /** @internal a subchannel's session became ready. */
  onReady(): void {
    while (this.waiters.length > 0) {
      const session = this.pick();
      if (!session) return;
      this.waiters.shift()!(session, undefined);
    }
  }

  /** @internal a subchannel failed to connect or lost its connection. */
  onFailure(sub: Subchannel): void {
    this.endpointFailed(sub);
    const failure = this.allFailed();
    if (failure !== undefined) this.failWaiters(failure);
    this.resolve(false);
  }

  private failWaiters(reason: string): void {
    for (const w of this.waiters.splice(0)) w(undefined, reason);
  }

  /** (Re-)resolves a DNS name; `first` resolves even if one just happened. */
  private resolve(first: boolean): void {
    const host = this.target.host;
    if (!host || this.resolving || this.closed) return;
    if (!first && Date.now() - this.lastResolve < MIN_RESOLVE_INTERVAL_MS) return;
    this.lastResolve = Date.now();
    this.resolving = lookup(host, { all: true })
      .then((answers) => {
        if (this.closed) return;
        this.resolveError = undefined;
        this.setEndpoints(answers.map((a) => ({ host: a.address, port: this.target.port })));
        for (const sub of this.subchannels) if (sub.state === "idle" && this.waiters.length) sub.connect();
      })
      .catch((err: Error) => {
        this.resolveError = `cannot resolve ${host}: ${err.message}`;
        if (this.subchannels.length === 0) this.failWaiters(this.resolveError);
      })
      .finally(() => {
        this.resolving = undefined;
      });
  }

  private setEndpoints(endpoints: readonly Endpoint[]): void {
    const keep: Subchannel[] = [];
    const byKey = new Map(this.subchannels.map((s) => [s.key, s]));
    for (const e of endpoints) {
      const key = endpointKey(e);
      const existing = byKey.get(key);
      byKey.delete(key);
      if (!keep.some((s) => s.key === key)) keep.push(existing ?? new Subchannel(e, this));
    }
    for (const gone of byKey.values()) gone.shutdown();
    this.subchannels = keep;
    this.next = 0;
  }
}

type SubchannelState = "idle" | "connecting" | "ready" | "failure";

class Subchannel {
  readonly key: string;
  state: SubchannelState = "idle";
  session: H2Session | undefined;
  lastError = "";
  // Balancing state: see Channel.pick, callEnded, checkAll
  /** Neither ejected nor unhealthy: in rotation. */
  usable = true;
  inFlight = 0;
  failures = 0;
  ejected = false;
  timesEjected = 0;
  returnedAt = 0;
  private ejectedUntil = 0;
  private ejectTimer: NodeJS.Timeout | undefined;
  checking = false;
  health: HealthAnswer | undefined;
  private healthy = true;
  private healthDetail = "";
  private good = 0;
  private bad = 0;
  private attempts = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly channel: Channel,
  ) {
    this.key = endpointKey(endpoint);
  }

  connect(): void {
    if (this.stopped || this.state === "connecting" || this.state === "ready") return;
    clearTimeout(this.retryTimer);
    this.state = "connecting";
    const { target, options } = this.channel;
    const socket = this.openSocket(target);
    let readyAt = 0;
    /** It worked for a while: losing it is news, not a failing backend (no backoff for the next try). */
    const lived = (): boolean => readyAt > 0 && Date.now() - readyAt > 1000;
    const session = new H2Session(
      socket,
      { ...options, keepaliveMs: this.channel.keepaliveMs },
      {
        onReady: () => {
          if (this.session !== session) return;
          clearTimeout(timer);
          this.state = "ready";
          readyAt = Date.now();
          this.channel.onReady();
        },
        onDraining: (_s, _reason, code, debug) => {
          if (this.session !== session) return;
          // ENHANCE_YOUR_CALM "too_many_pings": the server's keepalive policy is stricter than ours.
          if (code === H2Error.ENHANCE_YOUR_CALM && debug === "too_many_pings")
            this.channel.keepaliveMs = timerDelay(this.channel.keepaliveMs * 2);
          this.session = undefined;
          // The connection is replaced at once (a graceful restart, max connection age); drained
          // again right after that, it counts as a failure, with backoff, so that we never spin.
          if (lived()) this.attempts = 0;
          if (this.attempts++ === 0) {
            this.reconnectNow();
          } else {
            this.fail(
              `${this.key}: the server closed the new connection (GOAWAY ${code}${debug ? ` ${debug}` : ""})`,
            );
          }
        },
        onClose: (_s, reason) => {
          clearTimeout(timer);
          if (this.session !== session) return;
          this.session = undefined;
          // A connection that worked for a while is re-made at once; then backoff applies.
          if (lived()) {
            this.attempts = 1;
            this.lastError = `${this.key}: ${reason}`;
            this.reconnectNow();
            return;
          }
          this.fail(`${this.key}: ${reason}`);
        },
      },
    );
    this.session = session;
    this.inFlight = 0; // calls on a session that is gone are not found by callEnded
    const timer = setTimeout(() => session.destroy("connect timeout"), timerDelay(options.connectTimeoutMs));
    timer.unref();
  }

  private openSocket(target: BackendAddress): net.Socket {
    const e = this.endpoint;
    if (!target.tls) {
      return "path" in e ? net.connect({ path: e.path }) : net.connect({ host: e.host, port: e.port });
    }
    const servername = target.host ?? (isIpEndpoint(e) ? undefined : target.authority.split(":")[0]);
    const socket = tls.connect({
      ...("path" in e ? { path: e.path } : { host: e.host, port: e.port }),
      ...this.channel.options.tls,
      ALPNProtocols: ["h2"],
      ...(servername ? { servername } : {}),
    });
    socket.once("secureConnect", () => {
      if (socket.alpnProtocol !== "h2")
        socket.destroy(new Error("the server did not agree to HTTP/2 (ALPN)"));
    });
    return socket;
  }

  private fail(reason: string): void {
    this.lastError = reason;
    this.state = "failure";
    if (!this.stopped) {
      const base = Math.min(BACKOFF.maxMs, BACKOFF.initialMs * BACKOFF.multiplier ** this.attempts++);
      const wait = base * (1 + BACKOFF.jitter * (Math.random() * 2 - 1));
      this.retryTimer = setTimeout(() => this.reconnectNow(), wait);
      this.retryTimer.unref();
    }
    this.channel.onFailure(this);
  }

  /** Out of rotation for `ms`; `back` runs when it returns. */
  eject(ms: number, back: () => void): void {
    this.ejected = true;
    this.usable = false;
    this.ejectedUntil = Date.now() + ms;
    this.ejectTimer = setTimeout(() => {
      this.ejected = false;
      this.failures = 0;
      this.returnedAt = Date.now();
      this.usable = this.healthy;
      if (this.usable) back();
    }, timerDelay(ms));
    this.ejectTimer.unref();
  }

  /** Counts a health check's answer against the thresholds; SERVING is the only good answer. */
  healthResult(
    answer: HealthAnswer,
    detail: string,
    hc: { healthyThreshold: number; unhealthyThreshold: number },
  ): void {
    this.health = answer;
    this.healthDetail = detail;
    if (answer === "SERVING") {
      this.bad = 0;
      if (!this.healthy && ++this.good >= hc.healthyThreshold) this.healthy = true;
    } else {
      this.good = 0;
      if (this.healthy && ++this.bad >= hc.unhealthyThreshold) this.healthy = false;
    }
    this.usable = this.healthy && !this.ejected;
  }

  status(): EndpointStatus {
    return {
      address: this.key,
      state: this.state,
      inFlight: this.inFlight,
      consecutiveFailures: this.failures,
      ...(this.ejected ? { ejectedForMs: Math.max(0, this.ejectedUntil - Date.now()) } : {}),
      timesEjected: this.timesEjected,
      ...(this.health ? { health: this.health } : {}),
      healthy: this.healthy,
      ...(this.healthDetail && !this.healthy ? { healthDetail: this.healthDetail } : {}),
      ...(this.lastError && this.state !== "ready" ? { lastError: this.lastError } : {}),
    };
  }

  private reconnectNow(): void {
    this.state = "idle";
    this.connect();
  }

  shutdown(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.ejectTimer);
    const session = this.session;
    this.session = undefined;
    session?.close();
  }
}

function endpointKey(e: Endpoint): string {
  return "path" in e
    ? `unix:${e.path}`
    : net.isIPv6(e.host)
      ? `[${e.host}]:${e.port}`
      : `${e.host}:${e.port}`;
}

function isIpEndpoint(e: Endpoint): boolean {
  return !("path" in e) && net.isIP(e.host) !== 0;
}

function noop(): void {}
