/** A TCP port (0 picks a free one), or undefined. The --port and --admin-port flags use it. */
export const portNumber = (v: unknown): number | undefined =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) < 65536 ? (v as number) : undefined;
