import { runIdempotent, type Db, type ResponseCodec } from "@inv/platform";
import { idempotentRequests } from "./schema.js";

/**
 * Runs a Create once per AIP-155 request id (see runIdempotent): the scope is the RPC, the
 * payload the cleaned request, and the stored answer is what every retry gets back.
 */
export const createOnce = <T>(
  db: Db,
  request: { scope: string; requestId: string; payload: unknown; codec: ResponseCodec<T> },
  work: (tx: Db) => Promise<T>,
): Promise<T> => runIdempotent(db, { table: idempotentRequests, ...request }, work);
