import { invalid } from "@inv/platform";

/** Warehouse and location type codes: upper case, digits, "-" and "_"; 2 to 32 characters. */
export const ENTITY_CODE = /^[A-Z0-9][A-Z0-9_-]{1,31}$/;
/** Location codes may be a single character ("A"). */
export const LOCATION_CODE = /^[A-Z0-9][A-Z0-9_-]{0,31}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const COUNTRY = /^[A-Z]{2}$/;
// Control characters have no place in names and break logs and CSV exports.
const CONTROL = /[\u0000-\u001f\u007f]/;

export const MAX_PRIORITY = 1000;
export const MAX_METADATA_ENTRIES = 32;

export function checkId(field: string, value: string): string {
  if (value === "") throw invalid(field, "required", `${field} is required`);
  if (!UUID.test(value)) throw invalid(field, "format", `${field} must be a UUID`, value);
  return value.toLowerCase();
}

/** An optional reference: empty means "none". */
export const checkOptionalId = (field: string, value: string): string | null => (value === "" ? null : checkId(field, value));

export function checkCode(field: string, value: string, pattern: RegExp): string {
  if (value === "") throw invalid(field, "required", `${field} is required`);
  if (!pattern.test(value)) {
    throw invalid(field, "pattern", `${field} must match ${pattern.source} (upper-case letters, digits, "-" and "_")`, value);
  }
  return value;
}

export function checkText(field: string, value: string, opts: { max: number; required?: boolean }): string {
  const text = value.trim();
  if (opts.required && text === "") throw invalid(field, "required", `${field} is required`);
  if (text.length > opts.max) throw invalid(field, "max_length", `${field} must be at most ${opts.max} characters`, value.slice(0, 50));
  if (CONTROL.test(text)) throw invalid(field, "no_control_characters", `${field} must not contain control characters`);
  return text;
}

export function checkPriority(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_PRIORITY) {
    throw invalid(field, "range", `${field} must be between 0 and ${MAX_PRIORITY}`, value);
  }
  return value;
}

export interface AddressInput {
  line1: string;
  line2: string;
  city: string;
  region: string;
  postalCode: string;
  countryCode: string;
}

const ADDRESS_LIMITS: Record<keyof AddressInput, [protoName: string, max: number]> = {
  line1: ["line1", 200],
  line2: ["line2", 200],
  city: ["city", 100],
  region: ["region", 100],
  postalCode: ["postal_code", 20],
  countryCode: ["country_code", 2],
};

/** Checks the named address fields (all of them by default); returns the cleaned values. */
export function checkAddress(field: string, address: AddressInput, only?: readonly (keyof AddressInput)[]): Partial<AddressInput> {
  const out: Partial<AddressInput> = {};
  for (const key of only ?? (Object.keys(ADDRESS_LIMITS) as (keyof AddressInput)[])) {
    const [protoName, max] = ADDRESS_LIMITS[key];
    out[key] = checkText(`${field}.${protoName}`, address[key], { max });
  }
  if (out.countryCode && !COUNTRY.test(out.countryCode)) {
    throw invalid(`${field}.country_code`, "pattern", `${field}.country_code must be an ISO 3166-1 alpha-2 code in upper case`, out.countryCode);
  }
  return out;
}

/** The address field a mask path like "address.postal_code" names, if any. */
export function addressKeyOf(protoName: string): keyof AddressInput | undefined {
  return (Object.keys(ADDRESS_LIMITS) as (keyof AddressInput)[]).find((k) => ADDRESS_LIMITS[k][0] === protoName);
}

export function checkMetadata(field: string, metadata: Record<string, string>): Record<string, string> {
  const entries = Object.entries(metadata);
  if (entries.length > MAX_METADATA_ENTRIES) {
    throw invalid(field, "max_entries", `${field} may have at most ${MAX_METADATA_ENTRIES} entries`, entries.length);
  }
  for (const [key, value] of entries) {
    if (key.length < 1 || key.length > 64 || CONTROL.test(key)) {
      throw invalid(`${field}.${key}`, "key_format", `${field} keys must be 1 to 64 printable characters`, key);
    }
    checkText(`${field}.${key}`, value, { max: 256 });
  }
  return metadata;
}
