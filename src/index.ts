/** protogate's programmatic API. Everything else is internal. */

export { readConfigFile } from "./config/config-file.js";
export { LoadError, type LoadErrorCode } from "./config/load-error.js";
export type { GatewayOptions, MethodSettings } from "./config/options.js";
export { Code } from "./errors/code.js";
export { httpStatusFromCode } from "./errors/http-status.js";
export { createGateway, type Gateway } from "./server/gateway.js";
