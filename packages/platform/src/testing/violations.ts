import { InvalidArgument, type FieldViolation } from "../errors.js";
import { checkFields, type FieldChecker } from "../validation.js";

/** The field violations a check reports all at once, or [] when it passes. */
export function violationsOf(check: (v: FieldChecker) => unknown): FieldViolation[] {
  try {
    checkFields(check);
    return [];
  } catch (err) {
    if (!(err instanceof InvalidArgument)) throw err;
    return [...err.violations];
  }
}
