/**
 * Encodings and errors of council's verifiable ballots (shared/BALLOTS.md): hex, canonical
 * JSON, strict readers for received JSON, and the error every failed check raises. No
 * group arithmetic here (that is group.js); no imports at all.
 */

/**
 * The name of a failed check, the same names as council/ballots/checks.py (the server puts
 * them in its problem details):
 * - "encoding": not a canonical point, scalar, hex string or JSON shape;
 * - "shape": wrong number of choices, proofs or branches for the question;
 * - "selection": a plaintext selection breaks the question's rule (when encrypting);
 * - "range": an option's proof that its choice is 0 or 1;
 * - "overall": a question's proof that the selection obeys min..max or the budget;
 * - "reveal": an audited answer's revealed m and r do not give its ciphertexts;
 * - "pok", "dleq", "count": trustees' proofs and the decrypted count.
 * @typedef {'encoding' | 'shape' | 'selection' | 'range' | 'overall' | 'reveal' | 'pok' | 'dleq' | 'count'} CheckName
 */

/** A ballot, proof or encoding that fails a check: `check` names it, `message` says what. */
export class BallotError extends Error {
  /** @param {CheckName} check @param {string} message */
  constructor(check, message) {
    super(message);
    this.name = 'BallotError';
    /** @type {CheckName} */
    this.check = check;
  }
}

/** @typedef {{ok: true} | {ok: false, check: CheckName, reason: string}} Check  a check's result */

// ---------------------------------------------------------------- bytes and hex

const encoder = new TextEncoder();

/** @param {string} text @returns {Uint8Array} UTF-8 bytes */
export function utf8(text) {
  return encoder.encode(text);
}

/** @param {Uint8Array} bytes @returns {string} lower-case hex */
export function bytesToHex(bytes) {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/**
 * Strict hex decoding: lower case only (the record format's hex), even length, and the
 * given byte length when one is asked for.
 * @param {string} hex
 * @param {number} [length]  expected number of bytes
 * @param {string} [what]  what the hex is, for the error message
 * @returns {Uint8Array}
 */
export function hexToBytes(hex, length, what = 'hex') {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(hex)) {
    throw new BallotError('encoding', `${what} must be lower-case hex`);
  }
  if (length !== undefined && hex.length !== 2 * length) {
    throw new BallotError('encoding', `${what} must be ${2 * length} lower-case hex digits`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** @param {Uint8Array[]} chunks @returns {Uint8Array} */
export function concatBytes(chunks) {
  const out = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

// ---------------------------------------------------------------- canonical JSON

/**
 * Compare two strings by Unicode code points, as Python's sort_keys does (JavaScript's
 * default sort compares UTF-16 code units, which differs above U+FFFF).
 * @param {string} a @param {string} b
 */
function compareCodePoints(a, b) {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = /** @type {number} */ (x[i].codePointAt(0)) - /** @type {number} */ (y[i].codePointAt(0));
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** @param {unknown} value @returns {value is Record<string, unknown>} */
export function isPlainObject(value) {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Canonical JSON text: keys sorted by code point, no white space, integers only (no
 * floats), every string (keys too) in NFC. Strings are escaped as JSON.stringify does, which
 * matches Python's json.dumps(ensure_ascii=False) for well-formed text.
 * @param {unknown} value
 * @returns {string}
 */
export function canonicalJson(value) {
  if (value === null || value === true || value === false) return String(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      throw new BallotError('encoding', `canonical JSON allows integers only, not ${value}`);
    return String(value);
  }
  if (typeof value === 'string') {
    const text = value.normalize('NFC');
    if (LONE_SURROGATE.test(text))
      throw new BallotError('encoding', 'canonical JSON cannot hold a lone surrogate');
    return JSON.stringify(text);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isPlainObject(value)) {
    /** @type {Map<string, unknown>} */
    const entries = new Map();
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined)
        throw new BallotError('encoding', `canonical JSON has no undefined (key ${key})`);
      const normal = key.normalize('NFC');
      if (entries.has(normal)) throw new BallotError('encoding', `two keys are the same in NFC: ${normal}`);
      entries.set(normal, item);
    }
    const keys = [...entries.keys()].sort(compareCodePoints);
    return `{${keys.map((key) => `${canonicalJson(key)}:${canonicalJson(entries.get(key))}`).join(',')}}`;
  }
  throw new BallotError('encoding', `cannot put ${typeof value} in canonical JSON`);
}

/** @param {unknown} value @returns {Uint8Array} the UTF-8 bytes of canonicalJson(value) */
export function canonicalBytes(value) {
  return utf8(canonicalJson(value));
}

// ---------------------------------------------------------------- JSON shapes

/**
 * A JSON object with exactly these keys (an extra key would change the tracking code).
 * @param {unknown} value @param {string[]} keys @param {string} what
 * @returns {Record<string, unknown>}
 */
export function asObject(value, keys, what) {
  const have = isPlainObject(value) ? Object.keys(value) : null;
  if (!have || have.length !== keys.length || !keys.every((key) => have.includes(key))) {
    throw new BallotError(
      'encoding',
      `${what} must be an object with exactly the keys ${[...keys].sort().join(', ')}`,
    );
  }
  return /** @type {Record<string, unknown>} */ (value);
}

/** @param {unknown} value @param {string} what @returns {unknown[]} */
export function asList(value, what) {
  if (!Array.isArray(value)) throw new BallotError('encoding', `${what} must be a list`);
  return value;
}
