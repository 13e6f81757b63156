/**
 * JSON as Python's `json.dump` writes it by default: with `NaN`, `Infinity` and `-Infinity` as bare
 * values (numpy floats produce them), which `JSON.parse` refuses. Pure. The reference tool reads such
 * files back without complaint, so the audit reads them too, each such value as null; a write would
 * turn them into null for good, so the write path refuses a playbook that holds them
 * (`pythonConstantsIn`). Python also writes integers of any size, which JavaScript reads rounded to
 * the nearest double beyond 2^53 (a timestamp in nanoseconds, say): those too are counted
 * (`roundedIntegersIn`), and the write path refuses to store them rounded.
 */

const CONSTANTS = ['-Infinity', 'Infinity', 'NaN'];

/** Parsed values that held Python constants, and how many. */
const holders = new WeakMap<object, number>();
/** The text each parsed value was read from: looked at again only when the value holds an integer beyond 2^53. */
const sources = new WeakMap<object, string>();

/** `text` with every bare NaN/Infinity/-Infinity outside strings replaced by null, and how many there were. */
export function pythonConstantsToNull(text: string): { text: string; replaced: number } {
  let out = '';
  let replaced = 0;
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    if (c !== 'N' && c !== 'I' && c !== '-') continue;
    const constant = CONSTANTS.find((k) => text.startsWith(k, i));
    if (!constant) continue;
    out += `${text.slice(from, i)}null`;
    i += constant.length - 1;
    from = i + 1;
    replaced++;
  }
  return replaced ? { text: out + text.slice(from), replaced } : { text, replaced: 0 };
}

/** A character that may continue a JSON number: digits, sign, point, exponent. */
const inNumber = (c: number): boolean => (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46 || c === 69 || c === 101;

/**
 * How many number literals outside strings a write would change: beyond 2^53 JavaScript reads an integer as the
 * nearest double and writes that double's shortest digits (`1732790000123456789` comes back `1732790000123456800`),
 * where Python writes integers of any size exactly; and a number too large for a double (an integer of 309
 * digits, `1e400`) is read as Infinity and written as null. A literal already in those digits comes back as it was.
 */
export function roundedIntegerCount(text: string): number {
  let count = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 45 || (c >= 48 && c <= 57)) {
      let end = i + 1;
      while (end < text.length && inNumber(text.charCodeAt(end))) end++;
      const literal = text.slice(i, end);
      const n = Number(literal);
      // A lone `-` (before Infinity, which pythonConstantsToNull counts) is no number.
      if (/\d/.test(literal) && (!Number.isFinite(n) || (/^-?\d{16,}$/.test(literal) && String(n) !== literal))) count++;
      i = end - 1;
    }
  }
  return count;
}

/** True when `value` holds an integer beyond 2^53 or an infinity: the only numbers a read may have changed. */
function holdsUnsafeInteger(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isFinite(value) || (Number.isInteger(value) && !Number.isSafeInteger(value));
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(holdsUnsafeInteger);
  for (const key in value) if (holdsUnsafeInteger((value as Record<string, unknown>)[key])) return true;
  return false;
}

/** JSON.parse that also takes Python's NaN and Infinity (as null), remembering when it had to, and the text it read. */
export function parsePythonJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const { text: plain, replaced } = pythonConstantsToNull(text);
    if (replaced === 0) throw err;
    value = JSON.parse(plain);
    if (typeof value === 'object' && value !== null) holders.set(value, replaced);
  }
  if (typeof value === 'object' && value !== null) sources.set(value, text);
  return value;
}

/** How many NaN/Infinity values `value` held when parsed by parsePythonJson (0 for none). */
export function pythonConstantsIn(value: object): number {
  return holders.get(value) ?? 0;
}

/**
 * How many integers of the text parsePythonJson read `value` from a write would change (0 for none, and for a
 * value it did not read). A walk of the value settles the usual case (no integer beyond 2^53) without the text.
 */
export function roundedIntegersIn(value: object): number {
  const text = sources.get(value);
  return text !== undefined && holdsUnsafeInteger(value) ? roundedIntegerCount(text) : 0;
}
