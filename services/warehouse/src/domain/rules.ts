import type { FieldChecker } from "@inv/platform";

/**
 * The rules of the warehouse's own fields. Codes, names, ids and labels follow the platform's
 * shared limits (FIELD_LIMITS); only what is particular to warehouses is here.
 */

/** Fulfilment priority: warehouses with a higher one are allocated from first. */
export const MAX_PRIORITY = 1000;
/** Street lines fit a shipping label; city and region names the longest ones in use. */
export const ADDRESS_LINE_MAX = 200;
export const ADDRESS_PLACE_MAX = 100;
export const POSTAL_CODE_MAX = 20;
const COUNTRY = /^[A-Z]{2}$/;

export const checkPriority = (v: FieldChecker, field: string, value: number) => v.integer(field, value, { min: 0, max: MAX_PRIORITY });

export interface AddressInput {
  line1: string;
  line2: string;
  city: string;
  region: string;
  postalCode: string;
  countryCode: string;
}

export const EMPTY_ADDRESS: AddressInput = { line1: "", line2: "", city: "", region: "", postalCode: "", countryCode: "" };

const ADDRESS_FIELDS: Record<keyof AddressInput, [protoName: string, max: number]> = {
  line1: ["line1", ADDRESS_LINE_MAX],
  line2: ["line2", ADDRESS_LINE_MAX],
  city: ["city", ADDRESS_PLACE_MAX],
  region: ["region", ADDRESS_PLACE_MAX],
  postalCode: ["postal_code", POSTAL_CODE_MAX],
  countryCode: ["country_code", 2],
};
const ADDRESS_KEYS = Object.keys(ADDRESS_FIELDS) as (keyof AddressInput)[];

/** The proto names of the address fields, which an update mask may name one by one ("address.city"). */
export const ADDRESS_PATHS = ADDRESS_KEYS.map((k) => ADDRESS_FIELDS[k][0]);

/** The address field a proto name ("postal_code") names. */
export const addressKeyOf = (protoName: string) => ADDRESS_KEYS.find((k) => ADDRESS_FIELDS[k][0] === protoName);

/** Checks the named address fields (all of them by default); returns the cleaned values. */
export function checkAddress(v: FieldChecker, field: string, address: AddressInput, only: readonly (keyof AddressInput)[] = ADDRESS_KEYS) {
  const out: Partial<AddressInput> = {};
  for (const key of only) {
    const [protoName, max] = ADDRESS_FIELDS[key];
    out[key] = v.text(`${field}.${protoName}`, address[key], { max });
  }
  const country = `${field}.country_code`;
  if (out.countryCode && !v.has(country) && !COUNTRY.test(out.countryCode)) {
    v.fail(country, "pattern", `${country} must be an ISO 3166-1 alpha-2 code in upper case`, out.countryCode);
  }
  return out;
}
