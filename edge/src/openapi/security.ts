/** The two ways to authenticate (docs/decisions/0007-identity-and-access.md): /docs offers both under "Authorize". */
export const securitySchemes = {
  bearerAuth: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "An access token from `POST /v1/auth:login` (valid 15 minutes; `POST /v1/auth:refresh` gets a new one).",
  },
  apiKeyAuth: {
    type: "apiKey",
    in: "header",
    name: "x-api-key",
    description: "An API key (`imk_...`) from `POST /v1/api-keys`; `Authorization: Bearer imk_...` works too.",
  },
} as const;

export type SecurityRequirement = Partial<Record<keyof typeof securitySchemes, string[]>>;

/** Either credential will do; an empty list means none is needed. */
const EITHER: SecurityRequirement[] = [{ bearerAuth: [] }, { apiKeyAuth: [] }];

/** What an operation says about access: its security requirements, its x-required-permission and a sentence for its description. */
export function accessOf(permission: string | undefined): { security: SecurityRequirement[]; sentence: string } {
  if (permission === "public") return { security: [], sentence: "Public: no credentials needed." };
  if (permission === "authenticated")
    return { security: EITHER, sentence: "Needs a signed-in caller (an access token or an API key), with no particular permission." };
  if (permission === undefined) return { security: EITHER, sentence: "Declares no required permission, so every call is refused (default deny)." };
  const dot = permission.indexOf(".");
  const wildcards = dot > 0 ? `\`${permission.slice(0, dot)}.*\` or \`*\`` : "`*`";
  return { security: EITHER, sentence: `Needs the \`${permission}\` permission (or ${wildcards}).` };
}
