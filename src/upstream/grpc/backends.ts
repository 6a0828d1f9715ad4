import * as tls from "node:tls";
import { LoadError } from "../../config/load-error.js";
import { type BalancingConfigInput, balancingFor } from "./balancing.js";
import { type BackendTls, Channel, type ChannelOptions, DEFAULT_CHANNEL_OPTIONS } from "./channel.js";

/**
 * Channel options carrying the TLS material for tls:// backends, checked now: a PEM that does not
 * parse, or a key that does not fit its certificate, is a load error rather than every call failing.
 */
export function channelOptions(backendTls: BackendTls | undefined): ChannelOptions {
  if (!backendTls) return DEFAULT_CHANNEL_OPTIONS;
  if (!backendTls.cert !== !backendTls.key)
    throw new LoadError(
      "CONFIG_INVALID",
      "backends.tls",
      "a client certificate (cert) needs its key, and a key its cert",
    );
  try {
    tls.createSecureContext(backendTls);
  } catch (err) {
    throw new LoadError("CONFIG_INVALID", "backends.tls", (err as Error).message, { cause: err });
  }
  return { ...DEFAULT_CHANNEL_OPTIONS, tls: backendTls };
}

/**
 * One channel per backend address, shared by every route to it, closed on shutdown. Each balances by
 * `balancingByAddress[address]` over `balancing` over DEFAULT_BALANCING (balancing.ts).
 */
export class BackendChannels {
  private readonly channels = new Map<string, Channel>();

  constructor(
    private readonly options: ChannelOptions = DEFAULT_CHANNEL_OPTIONS,
    private readonly balancing?: BalancingConfigInput,
    private readonly balancingByAddress?: Readonly<Record<string, BalancingConfigInput>>,
  ) {}

  get(address: string): Channel {
    let channel = this.channels.get(address);
    if (!channel) {
      const balancing = balancingFor(address, this.balancing, this.balancingByAddress);
      channel = new Channel(address, { ...this.options, balancing });
      this.channels.set(address, channel);
    }
    return channel;
  }

  /** Each backend address's endpoints (connection, ejection, health), for GET /_protogate/status. */
  status(): Record<string, ReturnType<Channel["status"]>> {
    const out: Record<string, ReturnType<Channel["status"]>> = {};
    for (const [address, channel] of this.channels) out[address] = channel.status();
    return out;
  }

  close(): void {
    for (const c of this.channels.values()) c.close();
    this.channels.clear();
  }
}
