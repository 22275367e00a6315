/** What a handler tells the audit trail about its call, beyond what the platform knows itself. */
export interface AuditFacts {
  /** The type of the resource acted on, e.g. "Warehouse". */
  resourceType?: string;
  /** The id of the resource acted on. */
  resourceId?: string;
  /**
   * Extra facts, e.g. { delta: -3, sku: "SKU-1" }: never passwords, tokens, secrets or whole
   * request bodies. At most 8 KiB as JSON.
   */
  details?: Record<string, unknown>;
}
