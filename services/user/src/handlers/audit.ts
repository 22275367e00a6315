import { createHash } from "node:crypto";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { UUID_PATTERN, checkFields, type ServiceImpl } from "@inv/platform";
import type { AuditEvent, AuditRecordService } from "@inv/gen/user/v1/audit_pb";
import type { UserService } from "@inv/gen/user/v1/user_pb";
import { auditRowOf, outcomeName, toAuditEvent } from "../mapping.js";
import { insertAuditEvents, listAuditEvents } from "../store/audit.js";
import { keysetPage } from "../store/paging.js";
import type { NewAuditEvent } from "../store/schema.js";
import type { UserDeps } from "./deps.js";

export const AUDIT_BATCH_MAX = 500;
/** The contract's limit on an event's details, as JSON. */
export const AUDIT_DETAILS_MAX_BYTES = 8 * 1024;
const PAGE_SIZES = { default: 100, max: 1000 };

/**
 * The id an event is stored under: the producer's (its outbox row id) when given, else one
 * derived from (request id, method, occur time), so a record sent twice is stored once either way.
 */
function eventId(e: AuditEvent, occurTime: Timestamp): string {
  if (e.id !== "") return e.id.toLowerCase();
  const h = createHash("sha256").update(`${e.requestId}\n${e.method}\n${occurTime.seconds}.${occurTime.nanos}`).digest("hex");
  // A name-based UUID (version 8, RFC 9562 variant) from the hash.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Checks a batch, all violations at once, and returns the rows to store. */
function rowsOf(events: readonly AuditEvent[]): NewAuditEvent[] {
  return checkFields((v) => {
    if (events.length === 0 || events.length > AUDIT_BATCH_MAX) {
      v.fail("audit_events", "count", `audit_events must hold 1 to ${AUDIT_BATCH_MAX} records`, events.length);
    }
    return events.flatMap((e, i) => {
      const field = `audit_events[${i}]`;
      if (e.id !== "" && !UUID_PATTERN.test(e.id)) v.fail(`${field}.id`, "format", `${field}.id must be a UUID (or empty)`, e.id);
      if (!e.occurTime) v.fail(`${field}.occur_time`, "required", `${field}.occur_time is required`);
      else v.timestamp(`${field}.occur_time`, e.occurTime);
      if (e.service === "") v.fail(`${field}.service`, "required", `${field}.service is required`);
      if (e.method === "") v.fail(`${field}.method`, "required", `${field}.method is required`);
      if (e.details && Buffer.byteLength(JSON.stringify(e.details)) > AUDIT_DETAILS_MAX_BYTES) {
        v.fail(`${field}.details`, "max_size", `${field}.details must be at most ${AUDIT_DETAILS_MAX_BYTES} bytes as JSON`);
      }
      return e.occurTime ? [auditRowOf(e, eventId(e, e.occurTime), e.occurTime)] : [];
    });
  });
}

export function auditRecordHandlers({ db }: UserDeps) {
  // The trail's own intake is not audited (see isAudited in the platform): storing records is
  // not a change anyone answers for, and recording it would add a record per shipment.
  const recordAuditEvents: ServiceImpl<typeof AuditRecordService>["recordAuditEvents"] = async ({ auditEvents }) => ({
    recordedCount: await insertAuditEvents(db, rowsOf(auditEvents)),
  });
  return { recordAuditEvents };
}

export function auditReadHandlers({ db }: UserDeps) {
  const listAuditEventsHandler: ServiceImpl<typeof UserService>["listAuditEvents"] = async (req) => {
    const [startTime, endTime] = checkFields((v) => [v.timestamp("start_time", req.startTime), v.timestamp("end_time", req.endTime)]);
    const filter = {
      actorId: req.actorId || undefined,
      service: req.service || undefined,
      method: req.method || undefined,
      resourceType: req.resourceType || undefined,
      resourceId: req.resourceId || undefined,
      outcomes: req.outcomes.length ? [...new Set(req.outcomes.map(outcomeName))].sort() : undefined,
      requestId: req.requestId || undefined,
      startTime: startTime?.toISOString(),
      endTime: endTime?.toISOString(),
      oldestFirst: req.oldestFirst,
    };
    const page = await keysetPage(
      req,
      filter,
      PAGE_SIZES,
      (query) => listAuditEvents(db, query),
      (row) => [row.occurTime.toISOString(), row.id],
      toAuditEvent,
    );
    return { auditEvents: page.items, nextPageToken: page.nextPageToken };
  };
  return { listAuditEvents: listAuditEventsHandler };
}
