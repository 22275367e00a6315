import { runStandalone } from "@inv/platform";
import { RESERVATION_DEFAULT_PORT, reservationServiceDefinition } from "./index.js";

await runStandalone(reservationServiceDefinition, RESERVATION_DEFAULT_PORT);
