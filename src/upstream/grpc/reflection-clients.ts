import * as grpc from "@grpc/grpc-js";
import type { BackendTls } from "./channel.js";

/**
 * grpc-js clients for the reflection service (a streaming API), one per backend address, closed on
 * shutdown. Unary calls of the gateway go through the lean channel (channel.ts), not these.
 * Addresses: "host:port" (plaintext), "tls://host:port", or any grpc-js target ("dns:///...", "unix:...").
 */
export class ReflectionClients {
  private readonly clients = new Map<string, grpc.Client>();

  constructor(
    private readonly backendTls: BackendTls = {},
    private readonly channelOptions: grpc.ChannelOptions = DEFAULT_CHANNEL_OPTIONS,
  ) {}

  get(address: string): grpc.Client {
    let client = this.clients.get(address);
    if (!client) {
      const tls = address.startsWith("tls://");
      const target = tls ? address.slice("tls://".length) : address;
      const { ca, key, cert } = this.backendTls;
      const creds = tls
        ? grpc.credentials.createSsl(pem(ca), pem(key), pem(cert))
        : grpc.credentials.createInsecure();
      client = new grpc.Client(target, creds, this.channelOptions);
      this.clients.set(address, client);
    }
    return client;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

const pem = (text: string | Buffer | undefined): Buffer | null =>
  text === undefined ? null : Buffer.from(text);

const DEFAULT_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // Keep idle channels warm and notice dead backends without waiting for a request to fail.
  "grpc.keepalive_time_ms": 30_000,
  "grpc.keepalive_timeout_ms": 10_000,
  "grpc.keepalive_permit_without_calls": 1,
  // The gateway enforces its own body limit; let large answers through up to 64 MiB.
  "grpc.max_receive_message_length": 64 * 1024 * 1024,
  "grpc.max_send_message_length": 64 * 1024 * 1024,
  "grpc.service_config": JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
};
