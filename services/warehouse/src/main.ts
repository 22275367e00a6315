import { runStandalone } from "@inv/platform";
import { WAREHOUSE_DEFAULT_PORT, warehouseServiceDefinition } from "./index.js";

await runStandalone(warehouseServiceDefinition, WAREHOUSE_DEFAULT_PORT);
