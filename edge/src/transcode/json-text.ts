import { TranscodeError } from "./errors.js";

/**
 * How deep a request body may nest. protobuf's own parsers stop at 100 too; far deeper JSON
 * parses fine but overflows the stack of every recursive walk after it (protobuf-es fromJson,
 * the error locator, JSON.stringify of the echoed value).
 */
export const MAX_JSON_DEPTH = 100;

const QUOTE = 0x22,
  BACKSLASH = 0x5c,
  COMMA = 0x2c,
  COLON = 0x3a;
const OPEN_OBJECT = 0x7b,
  CLOSE_OBJECT = 0x7d,
  OPEN_ARRAY = 0x5b,
  CLOSE_ARRAY = 0x5d;

interface Frame {
  readonly keys: Set<string> | undefined; // undefined for an array
  key: string | undefined;
  index: number;
  expectKey: boolean;
}

/**
 * Checks the text of a JSON body in one linear pass, before anything recursive sees it: nesting
 * deeper than MAX_JSON_DEPTH, a key given twice in one object (JSON.parse would silently keep the
 * last), a "__proto__" key (a map field would silently drop it), and a "\u0000" escape (Postgres
 * text cannot hold it). Syntax is JSON.parse's job: on broken JSON this may find nothing, or report
 * a fault that the syntax error would have explained too. Faults name the place by the body's
 * keys and indexes under `root` (the field the body is, if it is one): "warehouse.tags[2]".
 */
export function checkJsonText(text: string, root = ""): void {
  const stack: Frame[] = [];
  const at = () => pathOf(stack, root);
  // Where a string starting now sits: a key names its object, a value its own place.
  const here = () => (stack.at(-1)?.expectKey ? at() : pathOf(stack, root, true));
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i + 1, here);
      const top = stack.at(-1);
      if (top?.keys !== undefined && top.expectKey) {
        const key = decodeKey(text.slice(i + 1, end));
        top.expectKey = false;
        if (key === "__proto__")
          throw new TranscodeError(join(at(), key), undefined, "forbidden_key", `${join(at(), key)}: "__proto__" is not accepted as a key`);
        if (top.keys.has(key)) throw new TranscodeError(join(at(), key), undefined, "duplicate_key", `${join(at(), key)}: the key is given twice`);
        top.keys.add(key);
        top.key = key;
      }
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (stack.length === MAX_JSON_DEPTH) {
        throw new TranscodeError(undefined, undefined, "depth", `request body nests deeper than ${MAX_JSON_DEPTH} levels`);
      }
      stack.push({ keys: c === OPEN_OBJECT ? new Set() : undefined, key: undefined, index: 0, expectKey: c === OPEN_OBJECT });
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      stack.pop();
    } else if (c === COMMA) {
      const top = stack.at(-1);
      if (top?.keys !== undefined) top.expectKey = true;
      else if (top !== undefined) top.index++;
    } else if (c === COLON) {
      const top = stack.at(-1);
      if (top !== undefined) top.expectKey = false;
    }
  }
}

/** The index of the quote closing the string whose text starts at `start`; throws on a \u0000 escape. */
function stringEnd(text: string, start: number, at: () => string): number {
  let j = start;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c === QUOTE) return j;
    if (c === BACKSLASH) {
      if (text.startsWith("u0000", j + 1)) {
        const where = at();
        throw new TranscodeError(where || undefined, undefined, "nul_character", `${where || "request body"}: a string holds a NUL character (\\u0000)`);
      }
      j += 2;
    } else {
      j++;
    }
  }
  return j;
}

/** A key as JSON.parse will see it: escapes resolved (the raw text when it is not valid JSON). */
function decodeKey(raw: string): string {
  if (!raw.includes("\\")) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

const join = (path: string, key: string) => (path === "" ? key : `${path}.${key}`);

/**
 * Where the scan is, as the body's keys and array indexes ("warehouse.tags[2]"): the innermost
 * object or array, or with `inside` the current member of it.
 */
function pathOf(stack: readonly Frame[], root: string, inside = false): string {
  let path = root;
  const last = inside ? stack.length : stack.length - 1;
  for (let depth = 0; depth < last; depth++) {
    const frame = stack[depth]!;
    path = frame.keys === undefined ? `${path}[${frame.index}]` : join(path, frame.key ?? "");
  }
  return path;
}
