import { registration, type ServiceRegistration } from "@inv/platform";
import { AuditRecordService } from "@inv/gen/user/v1/audit_pb";
import { TokenService } from "@inv/gen/user/v1/token_pb";
import { UserService } from "@inv/gen/user/v1/user_pb";
import { apiKeyHandlers } from "./api-keys.js";
import { auditReadHandlers, auditRecordHandlers } from "./audit.js";
import type { UserDeps } from "./deps.js";
import { roleHandlers } from "./roles.js";
import { sessionHandlers } from "./sessions.js";
import { tokenHandlers } from "./tokens.js";
import { userHandlers } from "./users.js";

export type { UserDeps } from "./deps.js";

/** The three services of the user process, bound to their handlers. */
export const userServices = (deps: UserDeps): ServiceRegistration[] => [
  registration(UserService, {
    ...userHandlers(deps),
    ...roleHandlers(deps),
    ...sessionHandlers(deps),
    ...apiKeyHandlers(deps),
    ...auditReadHandlers(deps),
  }),
  registration(TokenService, tokenHandlers(deps)),
  registration(AuditRecordService, auditRecordHandlers(deps)),
];
