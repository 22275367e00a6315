import { runStandalone } from "@inv/platform";
import { INVENTORY_DEFAULT_PORT, inventoryServiceDefinition } from "./index.js";

await runStandalone(inventoryServiceDefinition, INVENTORY_DEFAULT_PORT);
