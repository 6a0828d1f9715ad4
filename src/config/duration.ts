/** Human durations in config files: "250ms", "5s", "1m", "1h", "0", or a number of milliseconds. */
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDurationMs(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v) && v >= 0) return v;
  if (typeof v !== "string") return undefined;
  if (v.trim() === "0") return 0;
  const m = DURATION.exec(v.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : undefined;
}

/** Sizes in config files: "1mb", "512kb", "100b", or a number of bytes. */
const SIZE = /^(\d+)(b|kb|mb|gb)$/i;
const UNIT_BYTES: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

export function parseSizeBytes(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isInteger(v) && v > 0) return v;
  if (typeof v !== "string") return undefined;
  const m = SIZE.exec(v.trim());
  return m ? Number(m[1]) * UNIT_BYTES[m[2]!.toLowerCase()]! : undefined;
}
