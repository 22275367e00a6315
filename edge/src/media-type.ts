import { status } from "@grpc/grpc-js";
import { EdgeError } from "./http-errors.js";

/**
 * Refuses (415) a request body that is not declared as JSON in UTF-8. No content-type at all
 * is read as JSON, for curl users; a charset other than UTF-8 is refused rather than misread,
 * since JSON bodies are UTF-8 (RFC 8259).
 */
export function assertJsonMediaType(header: string | undefined): void {
  const [type = "", ...params] = (header ?? "")
    .toLowerCase()
    .split(";")
    .map((p) => p.trim());
  if (type !== "" && type !== "application/json" && !type.endsWith("+json")) {
    const violation = { field: "content-type", value: type, constraint: "media_type" };
    throw new EdgeError(status.INVALID_ARGUMENT, `content-type must be application/json, not ${type}`, violation, 415);
  }
  const charset = params
    .find((p) => p.startsWith("charset="))
    ?.slice("charset=".length)
    .replace(/"/g, "");
  if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
    const violation = { field: "content-type", value: charset, constraint: "charset" };
    throw new EdgeError(status.INVALID_ARGUMENT, `a JSON body must be UTF-8, not ${charset}`, violation, 415);
  }
}
