/** Connect errors carry what gRPC statuses carry: ErrorInfo, and BadRequest with every field at fault. */
import { Code, ConnectError } from "@connectrpc/connect";
import { status } from "@grpc/grpc-js";
import { BadRequestSchema, ErrorInfoSchema } from "@inv/gen/google/rpc/error_details_pb";
import { createLogger, NotFound, RemoteError } from "@inv/platform";
import { describe, expect, it, vi } from "vitest";
import { toConnectError } from "./connect-routes.js";

const quiet = () => {
  const log = createLogger("edge", "silent");
  return { log, error: vi.spyOn(log, "error") };
};

describe("toConnectError", () => {
  it("lists every violation in BadRequest, and the first field and the reason in ErrorInfo", () => {
    const { log, error } = quiet();
    const err = new RemoteError(
      status.INVALID_ARGUMENT,
      "warehouse.code is required; warehouse.name is required",
      [
        { field: "warehouse.code", constraint: "required", description: "warehouse.code is required" },
        { field: "warehouse.name", constraint: "required", description: "warehouse.name is required" },
      ],
      "INVALID_FIELD",
    );
    const connect = toConnectError(err, "req-1", log);
    expect(connect.code).toBe(Code.InvalidArgument);
    expect(connect.rawMessage).toBe(err.message);
    const [badRequest] = connect.findDetails(BadRequestSchema);
    expect(badRequest!.fieldViolations.map((v) => [v.field, v.reason, v.description])).toEqual([
      ["warehouse.code", "required", "warehouse.code is required"],
      ["warehouse.name", "required", "warehouse.name is required"],
    ]);
    const [info] = connect.findDetails(ErrorInfoSchema);
    expect(info).toMatchObject({ reason: "INVALID_FIELD", metadata: { field: "warehouse.code", constraint: "required" } });
    expect(error).not.toHaveBeenCalled();
  });

  it("sends no BadRequest when no field is at fault or the code is not INVALID_ARGUMENT", () => {
    const { log } = quiet();
    const connect = toConnectError(new NotFound("warehouse w1 not found", { field: "id", value: "w1", constraint: "exists" }), "r", log);
    expect(connect.code).toBe(Code.NotFound);
    expect(connect.findDetails(BadRequestSchema)).toEqual([]);
    expect(connect.findDetails(ErrorInfoSchema)[0]!.metadata).toEqual({ field: "id", constraint: "exists", value: "w1" });
  });

  it("logs an unexpected error with the request id and the error body REST would send, and hides its text", () => {
    const { log, error } = quiet();
    const boom = new TypeError("cannot read properties of undefined (secret)");
    const connect = toConnectError(boom, "req-7", log);
    expect(connect.code).toBe(Code.Internal);
    expect(connect.rawMessage).toBe("internal error (request id req-7)");
    expect(error).toHaveBeenCalledOnce();
    expect(error.mock.calls[0]![0]).toMatchObject({ err: boom, requestId: "req-7", error: { code: "INTERNAL", request_id: "req-7" } });
  });

  it("passes a ConnectError through as it is", () => {
    const { log, error } = quiet();
    const original = new ConnectError("deadline", Code.DeadlineExceeded);
    expect(toConnectError(original, "r", log)).toBe(original);
    expect(error).not.toHaveBeenCalled();
  });
});
