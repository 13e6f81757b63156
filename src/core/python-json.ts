/**
 * JSON as Python's `json.dump` writes it by default: with `NaN`, `Infinity` and `-Infinity` as bare
 * values (numpy floats produce them), which `JSON.parse` refuses. Pure. The reference tool reads such
 * files back without complaint, so the audit reads them too, each such value as null; a write would
 * turn them into null for good, so the write path refuses a playbook that holds them
 * (`pythonConstantsIn`).
 */

const CONSTANTS = ['-Infinity', 'Infinity', 'NaN'];

/** Parsed values that held Python constants, and how many. */
const holders = new WeakMap<object, number>();

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

/** JSON.parse that also takes Python's NaN and Infinity (as null), remembering when it had to. */
export function parsePythonJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const { text: plain, replaced } = pythonConstantsToNull(text);
    if (replaced === 0) throw err;
    const value: unknown = JSON.parse(plain);
    if (typeof value === 'object' && value !== null) holders.set(value, replaced);
    return value;
  }
}

/** How many NaN/Infinity values `value` held when parsed by parsePythonJson (0 for none). */
export function pythonConstantsIn(value: object): number {
  return holders.get(value) ?? 0;
}
