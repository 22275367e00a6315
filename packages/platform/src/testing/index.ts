export * from "./database.js";
export * from "./redis.js";
export * from "./service.js";
export * from "./reflection.js";
export * from "./violations.js";
export * from "./auth.js";
export * from "./failure.js";
export * from "./properties.js";
