import type { FieldChecker } from "@inv/platform";

/** Long enough to resist guessing at argon2 speeds; short enough that hashing it stays cheap. */
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;
/** Fewer distinct characters than this ("abababababab") is a pattern, not a password. */
const MIN_DISTINCT = 5;

/**
 * Passwords (and their stems, see `stemOf`) that lead every breach list. A long password made of
 * one of these plus digits or punctuation ("Password123!") is as weak as the word.
 */
const COMMON = new Set([
  "password",
  "passw0rd",
  "p@ssword",
  "p@ssw0rd",
  "qwerty",
  "qwertyuiop",
  "asdfghjkl",
  "zxcvbnm",
  "letmein",
  "welcome",
  "iloveyou",
  "admin",
  "administrator",
  "changeme",
  "secret",
  "default",
  "monkey",
  "dragon",
  "football",
  "baseball",
  "sunshine",
  "princess",
  "superman",
  "batman",
  "trustno",
  "master",
  "shadow",
  "whatever",
  "starwars",
  "abc",
  "abcdef",
  "abcdefgh",
  "abcdefghijkl",
  "inventory",
  "login",
  "user",
  "test",
  "guest",
  "root",
  "qazwsx",
  "1q2w3e4r",
  "1qaz2wsx",
]);

/** The word inside a password: lower-cased, without the digits and punctuation around it. */
const stemOf = (password: string) => password.toLowerCase().replace(/^[^a-z]+|[^a-z]+$/g, "");

/** Whether the password, or the word inside it, is on the common list. */
function isCommon(password: string): boolean {
  const stem = stemOf(password);
  return COMMON.has(password.toLowerCase()) || (stem !== "" && COMMON.has(stem));
}

/** How many of lower case, upper case, digits and everything else the password uses. */
function characterClasses(password: string): number {
  return [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((re) => re.test(password)).length;
}

/**
 * Checks a new password, naming the rule it breaks as the violation's constraint: "required",
 * "min_length", "max_length", "character_classes", "few_distinct_characters", "common_password",
 * "contains_username". The value is never echoed back in the violation.
 */
export function checkPassword(v: FieldChecker, field: string, password: string, username = ""): string {
  const length = [...password].length;
  if (password === "") v.fail(field, "required", `${field} is required`);
  else if (length < PASSWORD_MIN) v.fail(field, "min_length", `${field} must be at least ${PASSWORD_MIN} characters`);
  else if (length > PASSWORD_MAX) v.fail(field, "max_length", `${field} must be at most ${PASSWORD_MAX} characters`);
  else if (characterClasses(password) < 2) {
    v.fail(field, "character_classes", `${field} must mix at least two of lower case, upper case, digits and symbols`);
  } else if (new Set(password).size < MIN_DISTINCT) {
    v.fail(field, "few_distinct_characters", `${field} must use at least ${MIN_DISTINCT} different characters`);
  } else if (isCommon(password)) {
    v.fail(field, "common_password", `${field} is a commonly used password; choose another`);
  } else if (username.length >= 3 && password.toLowerCase().includes(username.toLowerCase())) {
    v.fail(field, "contains_username", `${field} must not contain the username`);
  }
  return password;
}
