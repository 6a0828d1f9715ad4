import * as grpc from "@grpc/grpc-js";
import { fetchDescriptors } from "../registry/reflection.js";
import type { ReflectionClients } from "../upstream/grpc/reflection-clients.js";
import type { DescriptorSource } from "./load-table.js";

interface Entry {
  source: DescriptorSource | undefined;
  fingerprint: string | undefined;
}

/**
 * Descriptors discovered by gRPC server reflection, one entry per backend address: fetched at start,
 * refreshed on an interval and whenever the backend's channel becomes ready again (a restarted backend
 * may have new methods). `onChange` runs when any backend's descriptors changed. A backend that cannot be
 * reached does not stop the gateway: its services appear once it answers.
 */
export class ReflectionSources {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly addresses: readonly string[],
    private readonly channels: ReflectionClients,
    private readonly onChange: () => void,
    private readonly log: { info: (m: string) => void; error: (m: string) => void },
    private readonly refreshMs = 30_000,
  ) {
    for (const a of addresses) this.entries.set(a, { source: undefined, fingerprint: undefined });
  }

  /** The first fetch from every backend, then the refresh loop. */
  async start(): Promise<void> {
    await Promise.all(this.addresses.map((a) => this.refresh(a, false)));
    if (this.addresses.length === 0) return;
    this.timer = setInterval(() => {
      for (const a of this.addresses) void this.refresh(a, true);
    }, this.refreshMs);
    this.timer.unref();
    for (const a of this.addresses) this.watchReconnects(a, grpc.connectivityState.IDLE);
  }

  readonly sources = (): DescriptorSource[] =>
    [...this.entries.values()].flatMap((e) => (e.source ? [e.source] : []));

  private async refresh(address: string, notify: boolean): Promise<void> {
    if (this.closed) return;
    try {
      const { files, fingerprint } = await fetchDescriptors(this.channels.get(address));
      const entry = this.entries.get(address)!;
      if (entry.fingerprint === fingerprint) return;
      entry.fingerprint = fingerprint;
      entry.source = { where: `reflection ${address}`, files, backend: address };
      this.log.info(`reflection ${address}: ${files.length} descriptor files`);
      if (notify) this.onChange();
    } catch (err) {
      this.log.error(`reflection ${address}: ${(err as Error).message}`);
    }
  }

  /** Refreshes when the channel comes back to READY after having left it. */
  private watchReconnects(address: string, last: grpc.connectivityState): void {
    if (this.closed) return;
    const channel = this.channels.get(address).getChannel();
    const state = channel.getConnectivityState(true);
    if (
      state === grpc.connectivityState.READY &&
      last !== grpc.connectivityState.READY &&
      last !== grpc.connectivityState.IDLE
    ) {
      void this.refresh(address, true);
    }
    channel.watchConnectivityState(state, Infinity, () => this.watchReconnects(address, state));
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
  }
}
