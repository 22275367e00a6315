export * from "./authenticator.js";
export * from "./interceptor.js";
export * from "./principal.js";
export * from "./principals.js";
export * from "./remote.js";
export * from "./rules.js";
export * from "./tokens.js";
export * from "./outgoing.js";
