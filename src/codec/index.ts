/** The codec: proto3 JSON <-> Msg <-> protobuf binary. */
export { decodeMessage, encodeMessage, WireFormatError } from "./binary.js";
export { type JsonReadOptions, messageFromJson, fieldFromJson, elementFromJson } from "./from-json.js";
export { type JsonWriteOptions, messageToJson, fieldToJson } from "./to-json.js";
export { type FieldInfo, type MessageInfo, messageInfo, enumInfo, jsonNameOf, fullNameOf } from "./message-info.js";
export { type Msg, type FieldValue, JsonMappingError } from "./msg.js";
export { typeUrlOf } from "./wkt.js";
export { scalarFromJson, enumFromJson, defaultScalar } from "./json-scalars.js";
export { wktFromJson } from "./wkt.js";
