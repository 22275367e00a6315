import { runStandalone } from "@inv/platform";
import { USER_DEFAULT_PORT, userServiceDefinition } from "./index.js";

await runStandalone(userServiceDefinition, USER_DEFAULT_PORT);
