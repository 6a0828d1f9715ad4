/** The codec: proto3 JSON <-> Msg <-> protobuf binary. */
export { decodeMessage, encodeMessage, WireFormatError } from "./binary.js";
export { type JsonReadOptions, messageFromJson, messageFromJsonText } from "./from-json.js";
export { defaultScalar, enumFromJson, scalarFromJson } from "./json-scalars.js";
export { JsonTextError, parseJsonText } from "./json-text.js";
export {
  type FieldInfo,
  fullNameOf,
  jsonNameOf,
  type MessageInfo,
  messageInfo,
} from "./message-info.js";
export { type FieldValue, JsonMappingError, type Msg } from "./msg.js";
export { unrenderableFieldPath, unrenderablePath } from "./render-path.js";
export { fieldToJson, type JsonWriteOptions, messageToJson } from "./to-json.js";
export { typeUrlOf, wktFromJson } from "./wkt.js";
