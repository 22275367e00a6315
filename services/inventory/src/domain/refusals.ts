import { Aborted, FailedPrecondition, alreadyDeleted, notFound, type DomainError } from "@inv/platform";
import type { ItemFields, ItemRef } from "./item-rules.js";
import type { Refusal } from "../store/levels.js";

/** NOT_FOUND for an item named by id or SKU, naming the field that carried it. */
export const itemNotFound = (ref: ItemRef, fields: ItemFields): DomainError =>
  "id" in ref ? notFound("item", ref.id, fields.id) : notFound("item with SKU", ref.sku, fields.sku);

export const itemDeleted = (id: string, fields: ItemFields): DomainError => alreadyDeleted("item", id, fields.id);

/** Why a change was not applied, as the error the caller gets. `field` is the quantity field. */
export function refusalError(refusal: Exclude<Refusal, { kind: "retry" }>, what: { field: string; expectedField: string; wanted: string }): DomainError {
  switch (refusal.kind) {
    case "stale":
      return new Aborted(
        `on_hand is ${refusal.onHand}, not the expected value: the level changed since it was read; read it again and retry`,
        { field: what.expectedField, value: String(refusal.onHand), constraint: "current_on_hand" },
        "ON_HAND_CHANGED",
      );
    case "missing":
      return new FailedPrecondition(
        `there is no stock of the item at that place: ${what.wanted} cannot be taken from nothing`,
        { field: what.field, constraint: "stock_available" },
        "INSUFFICIENT_STOCK",
      );
    case "insufficient": {
      const { onHand, reserved } = refusal.level;
      return new FailedPrecondition(
        `not enough stock: on_hand ${onHand}, reserved ${reserved}, available ${onHand - reserved}; ${what.wanted} would leave on_hand below reserved or below zero`,
        { field: what.field, constraint: "stock_available" },
        "INSUFFICIENT_STOCK",
      );
    }
  }
}
