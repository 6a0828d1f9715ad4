import compress from "@fastify/compress";
import type { FastifyInstance } from "fastify";
import type { CompressionConfig } from "../config/listener-config.js";
import type { CompressionRules } from "../interceptors/cache/encodings.js";

export const COMPRESSION_DEFAULTS = { threshold: 1024, encodings: ["br", "gzip"] } as const;

/**
 * JSON and text types only: not `application/x-ndjson` nor `text/event-stream`, whose messages must
 * reach the client as they come (a compressor holds bytes back until its block fills).
 */
const COMPRESSIBLE =
  /^(?:application\/(?:[\w.+-]+\+)?json|application\/javascript|text\/(?:html|plain|css|javascript))(?:;|$)/;

/**
 * Compresses answers of at least `threshold` bytes by the client's Accept-Encoding (RFC 9110 12.5.3),
 * with @fastify/compress. Register before any route: the plugin hooks the routes added after it.
 * Request bodies are not decompressed (the gateway reads them raw).
 */
export async function registerCompression(app: FastifyInstance, config: CompressionConfig): Promise<void> {
  await app.register(compress, {
    global: true,
    globalDecompression: false,
    threshold: config.threshold ?? COMPRESSION_DEFAULTS.threshold,
    encodings: [...(config.encodings ?? COMPRESSION_DEFAULTS.encodings)],
    customTypes: COMPRESSIBLE,
  });
}

/** The rules registerCompression gives @fastify/compress, for the cache's stored compressed forms. */
export function compressionRules(config: CompressionConfig): CompressionRules {
  return {
    threshold: config.threshold ?? COMPRESSION_DEFAULTS.threshold,
    encodings: [...(config.encodings ?? COMPRESSION_DEFAULTS.encodings)],
    compressible: COMPRESSIBLE,
  };
}
