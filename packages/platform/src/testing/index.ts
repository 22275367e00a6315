export * from "./database.js";
export * from "./redis.js";
export * from "./service.js";
