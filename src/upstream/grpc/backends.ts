import { Channel, type ChannelOptions, DEFAULT_CHANNEL_OPTIONS } from "./channel.js";

/** One channel per backend address, shared by every route to it, closed on shutdown. */
export class BackendChannels {
  private readonly channels = new Map<string, Channel>();

  constructor(private readonly options: ChannelOptions = DEFAULT_CHANNEL_OPTIONS) {}

  get(address: string): Channel {
    let channel = this.channels.get(address);
    if (!channel) {
      channel = new Channel(address, this.options);
      this.channels.set(address, channel);
    }
    return channel;
  }

  close(): void {
    for (const c of this.channels.values()) c.close();
    this.channels.clear();
  }
}
