export * from "./facts.js";
export * from "./event.js";
export * from "./outbox.js";
export * from "./trail.js";
export * from "./relay.js";
export * from "./calls.js";
