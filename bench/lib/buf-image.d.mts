/** Compiles a proto directory (plus the built-in google protos) to a FileDescriptorSet with buf. */
export function bufImage(protoDir: string): Uint8Array;
