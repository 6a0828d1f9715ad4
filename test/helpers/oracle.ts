import { createFileRegistry, type DescMessage, fromBinary, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { bufImage } from "../../bench/lib/buf-image.mjs";

/**
 * The test oracle: @bufbuild/protobuf (certified against the protobuf conformance suite), loaded from a
 * FileDescriptorSet that `buf build` compiles from the same protos protogate loads.
 */
export interface Oracle {
  registry: Registry;
  message(name: string): DescMessage;
}

export function loadOracle(protoDir: string): Oracle {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, bufImage(protoDir)));
  return {
    registry,
    message(name) {
      const desc = registry.getMessage(name);
      if (!desc) throw new Error(`oracle has no message ${name}`);
      return desc;
    },
  };
}
