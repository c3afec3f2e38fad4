/**
 * vote.js: the voter's side of council's verifiable secret ballots (shared/BALLOTS.md).
 *
 * Everything here runs in the voter's browser (and under node in the tests): the server
 * never sees a choice in clear. For each question the page encrypts one 0/1 value per
 * option with exponential ElGamal on ristretto255 under the trustees' joint key Y, proves
 * each value is 0 or 1, and proves the sum (or the weighted cost, for a budget question)
 * lies in the allowed range. Every proof binds the election fingerprint F, the voter's
 * public alias, the question index and the option index, so a ballot copied to another
 * voter, question or option no longer verifies.
 *
 * Encodings (shared/BALLOTS.md, "Group and encodings"):
 * - point: 32-byte canonical ristretto255 encoding, lower-case hex;
 * - scalar: 32-byte little-endian integer below the group order ℓ, lower-case hex;
 * - H(tag, parts…) = SHA-512(tag ‖ for each part: 4-byte big-endian length ‖ bytes), read as a
 *   little-endian integer and reduced mod ℓ;
 * - range-proof challenge: H("council/v1/range", F (32 raw bytes), alias (UTF-8, NFC), question
 *   index (decimal ASCII), option index (decimal ASCII, from 0) or the bytes "overall", α, β,
 *   then A_v, B_v for each v of the value set in increasing order), as fixed by the
 *   known-answer vectors in shared/ballot-vectors.json.
 *
 * JavaScript cannot promise constant-time arithmetic; secret scalars go through noble's
 * constant-time-style `multiply`, public ones through `multiplyUnsafe`.
 *
 * No framework, no build step: the page imports this file and the vendored noble bundle
 * as ES modules.
 */

import { ristretto255, sha256, sha512 } from '../vendor/noble-curves-2.4.0.mjs';

/** @typedef {InstanceType<typeof ristretto255.Point>} Point */

/**
 * A question as in the election manifest.
 * @typedef {object} Question
 * @property {string} [text]
 * @property {string[]} options   the option labels (only their number matters here)
 * @property {number} min         fewest options to select (ignored for a budget question)
 * @property {number} max         most options to select (ignored for a budget question)
 * @property {number[] | null} [costs]  whole units per option, for a budget question
 * @property {number | null} [budget]   total units allowed, for a budget question (≤ 200)
 */

/** @typedef {{alpha: string, beta: string}} Ciphertext  hex points */
/** @typedef {{c: string, s: string}} ProofBranch        hex scalars, one per value v */
/** @typedef {ProofBranch[]} RangeProof */
/**
 * One question's encrypted answer, as on the board.
 * @typedef {object} Answer
 * @property {Ciphertext[]} choices  one per option
 * @property {RangeProof[]} proofs   one per option, over the values {0, 1}
 * @property {RangeProof} overall    over min..max (or 0..budget for a budget question)
 */
/** @typedef {{m: number[], r: string[]}} Reveal  the Benaloh audit: the choices and randomness */
/**
 * What binds a proof to its place: the election fingerprint, the voter and the question.
 * @typedef {object} Context
 * @property {string} fingerprint  F, 64 hex characters
 * @property {string} alias        the voter's public alias
 * @property {number} questionIndex  from 0
 */
/** @typedef {{ok: true} | {ok: false, check: CheckName, reason: string}} Check */

export const Point = ristretto255.Point;
/** The group order ℓ = 2^252 + 27742317777372353535851937790883648493. */
export const ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;
export const TAGS = Object.freeze({
  pok: 'council/v1/pok',
  range: 'council/v1/range',
  dleq: 'council/v1/dleq',
});
/** The largest budget a budget question may have (shared/BALLOTS.md). */
export const MAX_BUDGET = 200;

const G = Point.BASE;
const ZERO = Point.ZERO;

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
function concatBytes(chunks) {
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
function isPlainObject(value) {
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
    if (!Number.isSafeInteger(value)) throw new BallotError('encoding', `canonical JSON allows integers only, not ${value}`);
    return String(value);
  }
  if (typeof value === 'string') {
    const text = value.normalize('NFC');
    if (LONE_SURROGATE.test(text)) throw new BallotError('encoding', 'canonical JSON cannot hold a lone surrogate');
    return JSON.stringify(text);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isPlainObject(value)) {
    /** @type {Map<string, unknown>} */
    const entries = new Map();
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) throw new BallotError('encoding', `canonical JSON has no undefined (key ${key})`);
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

/** @param {Uint8Array} bytes @returns {string} hex SHA-256 */
export function sha256Hex(bytes) {
  return bytesToHex(sha256(bytes));
}

// ---------------------------------------------------------------- scalars

/** @param {bigint} x @returns {bigint} x mod ℓ, in [0, ℓ) */
export function mod(x) {
  const r = x % ORDER;
  return r < 0n ? r + ORDER : r;
}

/** @param {Uint8Array} bytes @returns {bigint} the little-endian integer */
function bytesToIntLE(bytes) {
  let x = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(bytes[i]);
  return x;
}

/** @param {bigint} x a scalar in [0, ℓ) @returns {string} 32-byte little-endian hex */
export function scalarToHex(x) {
  if (x < 0n || x >= ORDER) throw new RangeError('a scalar must lie in [0, ℓ)');
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return bytesToHex(out);
}

/**
 * Decode a scalar: 32 bytes little-endian, lower-case hex, strictly below ℓ (a proof with
 * c + ℓ in place of c would otherwise be a second spelling of the same proof).
 * @param {unknown} hex @param {string} [what] @returns {bigint}
 */
export function scalarFromHex(hex, what = 'scalar') {
  const x = bytesToIntLE(hexToBytes(/** @type {string} */ (hex), 32, what));
  if (x >= ORDER) throw new BallotError('encoding', `${what} must be less than the group order ℓ`);
  return x;
}

/** A uniformly random non-zero scalar (64 random bytes reduced mod ℓ). @returns {bigint} */
export function randomScalar() {
  for (;;) {
    const x = mod(bytesToIntLE(globalThis.crypto.getRandomValues(new Uint8Array(64))));
    if (x !== 0n) return x;
  }
}

/** @param {bigint} a @returns {bigint} a⁻¹ mod ℓ (a ≠ 0 mod ℓ) */
export function invert(a) {
  let [r0, r1] = [mod(a), ORDER];
  let [s0, s1] = [1n, 0n];
  if (r0 === 0n) throw new RangeError('0 has no inverse mod ℓ');
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0);
}

// ---------------------------------------------------------------- points

/**
 * Decode a point, rejecting any non-canonical encoding (RFC 9496 decoding, done by noble).
 * @param {unknown} hex
 * @param {{allowIdentity?: boolean, what?: string}} [options]  allowIdentity false where a key is expected
 * @returns {Point}
 */
export function pointFromHex(hex, { allowIdentity = true, what = 'point' } = {}) {
  const bytes = hexToBytes(/** @type {string} */ (hex), 32, what);
  let point;
  try {
    point = Point.fromBytes(bytes);
  } catch {
    throw new BallotError('encoding', `${what}: not the canonical encoding of a ristretto255 point`);
  }
  if (!allowIdentity && point.is0()) throw new BallotError('encoding', `${what}: the identity point is not a valid key`);
  return point;
}

/** @param {Point} point @returns {string} */
export function pointToHex(point) {
  return bytesToHex(point.toBytes());
}

/** @param {Point} point @param {bigint} k a public scalar in [0, ℓ) @returns {Point} */
function mulPublic(point, k) {
  return point.multiplyUnsafe(k);
}

/** @param {Point} point @param {bigint} k a secret scalar in [0, ℓ) @returns {Point} */
function mulSecret(point, k) {
  return k === 0n ? ZERO : point.multiply(k);
}

/** @param {number} v @returns {Point} v·G, for small public v ≥ 0 */
function small(v) {
  return mulPublic(G, BigInt(v));
}

/**
 * A public key is multiplied about ten times per question: decode it once and give it a
 * small precomputed table (noble keeps a larger one for the base point).
 * @type {Map<string, Point>}
 */
const keyCache = new Map();

/** @param {string} hex @returns {Point} a non-identity key, with its table */
export function publicKeyFromHex(hex) {
  let key = keyCache.get(hex);
  if (!key) {
    key = pointFromHex(hex, { allowIdentity: false, what: 'the public key' });
    key.precompute(TABLE_WINDOW);
    if (keyCache.size > 16) keyCache.clear();
    keyCache.set(hex, key);
  }
  return key;
}

// ---------------------------------------------------------------- hash to scalar

/**
 * H(tag, parts…) = SHA-512(tag ‖ for each part: 4-byte big-endian length ‖ bytes) mod ℓ,
 * the digest read little-endian.
 * @param {string} tag e.g. TAGS.range
 * @param {Uint8Array[]} parts
 * @returns {bigint}
 */
export function hashToScalar(tag, parts) {
  const chunks = [utf8(tag)];
  for (const part of parts) {
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, part.length, false);
    chunks.push(length, part);
  }
  return mod(bytesToIntLE(sha512(concatBytes(chunks))));
}

// ---------------------------------------------------------------- range proofs

/**
 * Where a range proof sits and what its challenge binds: F (32 raw bytes), the alias (UTF-8,
 * NFC as canonical JSON stores it), the question index and the option index (decimal ASCII)
 * or the bytes "overall".
 * @typedef {object} ProofPlace
 * @property {Uint8Array[]} prefix  the first four parts of the challenge
 * @property {string} where  e.g. "answers[0].proofs[2]", for messages
 */

/**
 * @param {Context} context @param {number | null} option  null for the overall proof
 * @returns {ProofPlace}
 */
function proofPlace(context, option) {
  const label = option === null ? 'overall' : String(option);
  return {
    prefix: [
      hexToBytes(context.fingerprint, 32, 'the fingerprint F'),
      utf8(context.alias.normalize('NFC')),
      utf8(String(context.questionIndex)),
      utf8(label),
    ],
    where: `answers[${context.questionIndex}].${option === null ? 'overall' : `proofs[${option}]`}`,
  };
}

/**
 * The commitments of a branch from its (c_v, s_v): A_v = s_v·G − c_v·α and
 * B_v = s_v·Y − c_v·(β − v·G). With tables on α and β (see withTables) B_v is computed as
 * s_v·Y − c_v·β + (c_v·v)·G, which uses them; without, one multiplication of β − v·G is cheaper.
 * @param {Point} key @param {Point} alpha @param {Point} beta @param {number} v
 * @param {bigint} cv @param {bigint} sv @param {boolean} tabled
 * @returns {[Point, Point]}
 */
function branchCommitments(key, alpha, beta, v, cv, sv, tabled) {
  const A = mulPublic(G, sv).subtract(mulPublic(alpha, cv));
  const B = tabled
    ? mulPublic(key, sv).subtract(mulPublic(beta, cv)).add(mulPublic(G, mod(cv * BigInt(v))))
    : mulPublic(key, sv).subtract(mulPublic(beta.subtract(small(v)), cv));
  return [A, B];
}

/**
 * A range proof over many values (a budget question has up to 201) multiplies the same α
 * and β once per value: then small precomputed tables (a few ms each) pay for themselves.
 * @param {Point} alpha @param {Point} beta @param {number} branches
 * @returns {boolean} whether the tables were made
 */
function withTables(alpha, beta, branches) {
  if (branches < TABLE_FROM) return false;
  alpha.precompute(TABLE_WINDOW);
  beta.precompute(TABLE_WINDOW);
  return true;
}
// Measured under node 20: a width-4 table costs about 4 multiplications and makes each later
// multiplication about 5 times faster than noble's untabled wNAF.
const TABLE_FROM = 8;
const TABLE_WINDOW = 4;

/** @param {ProofPlace} place @param {Point} alpha @param {Point} beta @param {Uint8Array[]} commitments */
function rangeChallenge(place, alpha, beta, commitments) {
  return hashToScalar(TAGS.range, [...place.prefix, alpha.toBytes(), beta.toBytes(), ...commitments]);
}

/**
 * Prove that (α, β) = (r·G, m·G + r·Y) with m one of `values` (disjunctive Chaum–Pedersen):
 * the branch of m is real, every other branch simulated.
 * @param {object} p
 * @param {Point} p.key  Y
 * @param {ProofPlace} p.place
 * @param {Point} p.alpha @param {Point} p.beta
 * @param {bigint} p.r @param {number} p.m
 * @param {number[]} p.values  distinct, increasing
 * @param {() => bigint} p.draw  draws w, then c_v and s_v for each simulated v in order
 * @returns {RangeProof}
 */
function proveRange({ key, place, alpha, beta, r, m, values, draw }) {
  const real = values.indexOf(m);
  if (real < 0) throw new BallotError('selection', `${place.where}: ${m} is not one of the allowed values`);
  const tabled = withTables(alpha, beta, values.length);
  const w = draw();
  /** @type {bigint[]} */ const c = [];
  /** @type {bigint[]} */ const s = [];
  /** @type {Uint8Array[]} */ const commitments = [];
  values.forEach((v, i) => {
    let A;
    let B;
    if (i === real) {
      A = mulSecret(G, w);
      B = mulSecret(key, w);
      c.push(0n);
      s.push(0n);
    } else {
      const cv = draw();
      const sv = draw();
      [A, B] = branchCommitments(key, alpha, beta, v, cv, sv, tabled);
      c.push(cv);
      s.push(sv);
    }
    commitments.push(A.toBytes(), B.toBytes());
  });
  const challenge = rangeChallenge(place, alpha, beta, commitments);
  c[real] = mod(challenge - c.reduce((sum, cv) => sum + cv, 0n));
  s[real] = mod(w + c[real] * r);
  return values.map((_, i) => ({ c: scalarToHex(c[i]), s: scalarToHex(s[i]) }));
}

/**
 * Decode a received range proof: a list of exactly `branches` {c, s} with canonical scalars.
 * @param {unknown} proof @param {number} branches @param {string} where
 * @returns {{c: bigint, s: bigint}[]}
 */
function readRangeProof(proof, branches, where) {
  if (!Array.isArray(proof)) throw new BallotError('encoding', `${where} must be a list`);
  if (proof.length !== branches) {
    throw new BallotError('shape', `${where}: expected ${branches} branches, got ${proof.length}`);
  }
  return proof.map((branch, i) => {
    const fields = asObject(branch, ['c', 's'], `${where}[${i}]`);
    return { c: scalarFromHex(fields.c, `${where}[${i}].c`), s: scalarFromHex(fields.s, `${where}[${i}].s`) };
  });
}

/**
 * Check a decoded range proof: rebuild every A_v, B_v and compare Σc_v with the challenge.
 * @param {object} p
 * @param {Point} p.key @param {ProofPlace} p.place
 * @param {Point} p.alpha @param {Point} p.beta
 * @param {{c: bigint, s: bigint}[]} p.branches @param {number[]} p.values
 * @returns {boolean}
 */
function rangeProofHolds({ key, place, alpha, beta, branches, values }) {
  const tabled = withTables(alpha, beta, values.length);
  let sum = 0n;
  /** @type {Uint8Array[]} */ const commitments = [];
  values.forEach((v, i) => {
    const [A, B] = branchCommitments(key, alpha, beta, v, branches[i].c, branches[i].s, tabled);
    commitments.push(A.toBytes(), B.toBytes());
    sum += branches[i].c;
  });
  return mod(sum) === rangeChallenge(place, alpha, beta, commitments);
}

/** @param {number} lo @param {number} hi @returns {number[]} lo..hi */
function range(lo, hi) {
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

/**
 * A JSON object with exactly these keys (an extra key would change the tracking code).
 * @param {unknown} value @param {string[]} keys @param {string} what
 * @returns {Record<string, unknown>}
 */
function asObject(value, keys, what) {
  const have = isPlainObject(value) ? Object.keys(value) : null;
  if (!have || have.length !== keys.length || !keys.every((key) => have.includes(key))) {
    throw new BallotError('encoding', `${what} must be an object with exactly the keys ${[...keys].sort().join(', ')}`);
  }
  return /** @type {Record<string, unknown>} */ (value);
}

/** @param {unknown} value @param {string} what @returns {unknown[]} */
function asList(value, what) {
  if (!Array.isArray(value)) throw new BallotError('encoding', `${what} must be a list`);
  return value;
}

// ---------------------------------------------------------------- questions

/**
 * The rule of a question: the weight of each option in the overall sum and the values the
 * overall proof covers (min..max, or 0..budget for a budget question, whose min and max the
 * proofs do not enforce).
 * @param {Question} question
 * @returns {{weights: number[], values: number[], budget: number | null}}
 */
export function questionRule(question) {
  const k = question?.options?.length;
  if (!Number.isSafeInteger(k) || k < 1) throw new RangeError('a question has at least one option');
  const whole = (/** @type {unknown} */ x, /** @type {number} */ least) => Number.isSafeInteger(x) && /** @type {number} */ (x) >= least;
  const { costs, budget } = question;
  if (costs != null || budget != null) {
    if (!Array.isArray(costs) || costs.length !== k || !costs.every((cost) => whole(cost, 1))) {
      throw new RangeError('a budget question has one positive whole cost per option');
    }
    if (!whole(budget, 1) || /** @type {number} */ (budget) > MAX_BUDGET) {
      throw new RangeError(`a budget is 1..${MAX_BUDGET} units`);
    }
    return { weights: costs, values: range(0, /** @type {number} */ (budget)), budget: /** @type {number} */ (budget) };
  }
  const { min, max } = question;
  if (!whole(min, 0) || !whole(max, 0) || min > max || max > k) {
    throw new RangeError('need 0 ≤ min ≤ max ≤ number of options');
  }
  return { weights: Array(k).fill(1), values: range(min, max), budget: null };
}

/**
 * @param {{weights: number[], values: number[], budget: number | null}} rule
 * @returns {string} what the overall proof says, for messages
 */
function overallMeaning({ values, budget }) {
  if (budget !== null) return `the chosen options cost at most ${budget}`;
  const [min, max] = [values[0], values[values.length - 1]];
  return min === max ? `exactly ${min} option(s) are chosen` : `${min} to ${max} options are chosen`;
}

/** @param {Context} context @returns {Context} */
function checkedContext({ fingerprint, alias, questionIndex }) {
  hexToBytes(fingerprint, 32, 'the fingerprint F');
  if (typeof alias !== 'string' || alias === '') throw new RangeError('the alias is a non-empty string');
  if (!Number.isSafeInteger(questionIndex) || questionIndex < 0) throw new RangeError('a question index is a whole number ≥ 0');
  return { fingerprint, alias, questionIndex };
}

/**
 * Encrypt one question's answer, with its proofs.
 * @param {object} p
 * @param {string} p.publicKey   Y, hex
 * @param {string} p.fingerprint F, hex
 * @param {string} p.alias
 * @param {number} p.questionIndex  from 0
 * @param {Question} p.question
 * @param {number[]} p.selection  0 or 1 per option
 * @param {() => bigint} [p.draw]  the source of random scalars: leave it out (the browser's
 *   CSPRNG) except in tests replaying the known-answer vectors. Draws, per option in order,
 *   r_j then its proof's scalars, then the overall proof's (as council/ballots/encrypt.py).
 * @returns {{answer: Answer, reveal: Reveal}}  keep `reveal` secret unless the voter audits
 */
export function encryptAnswer({ publicKey, fingerprint, alias, questionIndex, question, selection, draw = randomScalar }) {
  const key = publicKeyFromHex(publicKey);
  const context = checkedContext({ fingerprint, alias, questionIndex });
  const rule = questionRule(question);
  const where = `answers[${questionIndex}]`;
  if (!Array.isArray(selection) || selection.length !== rule.weights.length || !selection.every((m) => m === 0 || m === 1)) {
    throw new BallotError('selection', `${where}: the selection must be 0 or 1 for each of the ${rule.weights.length} options`);
  }
  const total = selection.reduce((/** @type {number} */ sum, m, j) => sum + m * rule.weights[j], 0);
  if (!rule.values.includes(total)) {
    throw new BallotError('selection', `${where}: the selection breaks the question's rule (${overallMeaning(rule)})`);
  }
  const clear = [ZERO, G]; // m·G for m = 0, 1, by lookup
  /** @type {Ciphertext[]} */ const choices = [];
  /** @type {RangeProof[]} */ const proofs = [];
  /** @type {bigint[]} */ const rs = [];
  let sumAlpha = ZERO;
  let sumBeta = ZERO;
  let sumR = 0n;
  selection.forEach((m, j) => {
    const r = draw();
    rs.push(r);
    const alpha = mulSecret(G, r);
    const beta = clear[m].add(mulSecret(key, r));
    choices.push({ alpha: pointToHex(alpha), beta: pointToHex(beta) });
    proofs.push(proveRange({ key, place: proofPlace(context, j), alpha, beta, r, m, values: [0, 1], draw }));
    const w = BigInt(rule.weights[j]);
    sumAlpha = sumAlpha.add(mulPublic(alpha, w));
    sumBeta = sumBeta.add(mulPublic(beta, w));
    sumR += w * r;
  });
  const overall = proveRange({
    key,
    place: proofPlace(context, null),
    alpha: sumAlpha,
    beta: sumBeta,
    r: mod(sumR),
    m: total,
    values: rule.values,
    draw,
  });
  return { answer: { choices, proofs, overall }, reveal: { m: [...selection], r: rs.map(scalarToHex) } };
}

/**
 * Check one question's answer as the server does (council/ballots/encrypt.py): its JSON
 * shape, every point and scalar canonical, the numbers of choices, proofs and branches,
 * each option's proof over {0, 1}, then the overall proof. Throws a BallotError naming the
 * first failing check.
 * @param {object} p
 * @param {string} p.publicKey @param {string} p.fingerprint @param {string} p.alias
 * @param {number} p.questionIndex @param {Question} p.question
 * @param {unknown} p.answer
 */
export function checkAnswer({ publicKey, fingerprint, alias, questionIndex, question, answer }) {
  const key = publicKeyFromHex(publicKey);
  const context = checkedContext({ fingerprint, alias, questionIndex });
  const rule = questionRule(question);
  const where = `answers[${questionIndex}]`;
  // Decode everything first: a malformed answer is an encoding failure wherever it lies.
  const fields = asObject(answer, ['choices', 'proofs', 'overall'], where);
  const choices = asList(fields.choices, `${where}.choices`).map((choice, j) => {
    const at = `${where}.choices[${j}]`;
    const { alpha, beta } = asObject(choice, ['alpha', 'beta'], at);
    return { alpha: pointFromHex(alpha, { what: `${at}.alpha` }), beta: pointFromHex(beta, { what: `${at}.beta` }) };
  });
  const proofs = asList(fields.proofs, `${where}.proofs`);
  const k = rule.weights.length;
  if (choices.length !== k || proofs.length !== k) {
    throw new BallotError('shape', `${where}: expected ${k} choices and proofs`);
  }
  const optionProofs = proofs.map((proof, j) => readRangeProof(proof, 2, `${where}.proofs[${j}]`));
  const overall = readRangeProof(fields.overall, rule.values.length, `${where}.overall`);

  let sumAlpha = ZERO;
  let sumBeta = ZERO;
  choices.forEach(({ alpha, beta }, j) => {
    const place = proofPlace(context, j);
    if (!rangeProofHolds({ key, place, alpha, beta, branches: optionProofs[j], values: [0, 1] })) {
      throw new BallotError('range', `${place.where}: the proof that the choice is 0 or 1 does not verify`);
    }
    const w = BigInt(rule.weights[j]);
    sumAlpha = sumAlpha.add(mulPublic(alpha, w));
    sumBeta = sumBeta.add(mulPublic(beta, w));
  });
  const place = proofPlace(context, null);
  if (!rangeProofHolds({ key, place, alpha: sumAlpha, beta: sumBeta, branches: overall, values: rule.values })) {
    throw new BallotError('overall', `${place.where}: the proof that ${overallMeaning(rule)} does not verify`);
  }
}

/**
 * Run a check; a BallotError becomes {ok: false, check, reason}, anything else is thrown.
 * @param {() => void} check @returns {Check}
 */
function asResult(check) {
  try {
    check();
    return { ok: true };
  } catch (error) {
    if (error instanceof BallotError) return { ok: false, check: error.check, reason: error.message };
    throw error;
  }
}

/**
 * checkAnswer as a result instead of an exception.
 * @param {Parameters<typeof checkAnswer>[0]} p
 * @returns {Check}
 */
export function verifyAnswer(p) {
  return asResult(() => checkAnswer(p));
}

// ---------------------------------------------------------------- whole ballots

/**
 * Encrypt a whole ballot: one answer per question.
 * @param {object} p
 * @param {string} p.publicKey @param {string} p.fingerprint @param {string} p.alias
 * @param {Question[]} p.questions
 * @param {number[][]} p.selections  one selection per question
 * @param {() => bigint} [p.draw]  tests only, as for encryptAnswer
 * @returns {{ballot: {alias: string, answers: Answer[]}, reveal: Reveal[], trackingCode: string}}
 *   `ballot` is the board payload without cast_at; `reveal` is what an audit discloses
 */
export function encryptBallot({ publicKey, fingerprint, alias, questions, selections, draw = randomScalar }) {
  if (!Array.isArray(selections) || selections.length !== questions.length) {
    throw new BallotError('shape', 'one selection per question');
  }
  const made = questions.map((question, questionIndex) =>
    encryptAnswer({ publicKey, fingerprint, alias, questionIndex, question, selection: selections[questionIndex], draw }),
  );
  const ballot = { alias, answers: made.map((x) => x.answer) };
  return { ballot, reveal: made.map((x) => x.reveal), trackingCode: trackingCode(ballot) };
}

/**
 * Check every answer of a ballot ({alias, answers, …}); the result names the first failure.
 * @param {object} p
 * @param {string} p.publicKey @param {string} p.fingerprint @param {Question[]} p.questions
 * @param {{alias: string, answers: unknown}} p.ballot
 * @returns {Check}
 */
export function verifyBallot({ publicKey, fingerprint, questions, ballot }) {
  return asResult(() => {
    const answers = asList(ballot?.answers, 'answers');
    if (answers.length !== questions.length) {
      throw new BallotError('shape', `expected ${questions.length} answers, got ${answers.length}`);
    }
    questions.forEach((question, questionIndex) =>
      checkAnswer({ publicKey, fingerprint, alias: ballot.alias, questionIndex, question, answer: answers[questionIndex] }),
    );
  });
}

/**
 * The tracking code: hex SHA-256 of canonical({alias, answers}), answers in the board's shape.
 * @param {{alias: string, answers: unknown}} ballot  other fields (cast_at, reveal…) are ignored
 * @returns {string}
 */
export function trackingCode({ alias, answers }) {
  return sha256Hex(canonicalBytes({ alias, answers }));
}

/**
 * A short form of the tracking code for the voter to compare by eye: its first 8 hex
 * digits in two groups (shared/BALLOTS.md does not fix the short form).
 * @param {string} code @returns {string}
 */
export function shortTrackingCode(code) {
  return `${code.slice(0, 4)}-${code.slice(4, 8)}`;
}

/**
 * The Benaloh audit, on any device: do the revealed m_j and r_j give exactly the answer's
 * ciphertexts (α = r·G, β = m·G + r·Y)?
 * @param {object} p
 * @param {string} p.publicKey @param {number} [p.questionIndex]  for messages only
 * @param {Answer} p.answer @param {unknown} p.reveal  {m: [int], r: [hex]}
 * @returns {Check}
 */
export function verifyReveal({ publicKey, questionIndex = 0, answer, reveal }) {
  return asResult(() => {
    const key = publicKeyFromHex(publicKey);
    const where = `answers[${questionIndex}]`;
    const fields = asObject(reveal, ['m', 'r'], `${where}.reveal`);
    const m = asList(fields.m, `${where}.reveal.m`);
    const r = asList(fields.r, `${where}.reveal.r`).map((x, j) => scalarFromHex(x, `${where}.reveal.r[${j}]`));
    if (m.some((v) => !Number.isSafeInteger(v))) throw new BallotError('encoding', `${where}.reveal.m must hold integers`);
    const choices = asList(answer?.choices, `${where}.choices`);
    if (m.length !== choices.length || r.length !== choices.length) {
      throw new BallotError('shape', `${where}: the reveal needs one m and one r per choice`);
    }
    choices.forEach((choice, j) => {
      const { alpha, beta } = asObject(choice, ['alpha', 'beta'], `${where}.choices[${j}]`);
      const good =
        (m[j] === 0 || m[j] === 1) &&
        pointFromHex(alpha).equals(mulPublic(G, r[j])) &&
        pointFromHex(beta).equals(small(/** @type {number} */ (m[j])).add(mulPublic(key, r[j])));
      if (!good) {
        throw new BallotError('reveal', `${where}.choices[${j}]: the revealed m and r do not give this ciphertext`);
      }
    });
  });
}

/**
 * The `reveal` field of an audited ballot: one {m, r} per question.
 * @param {Reveal[]} reveals from encryptBallot @returns {Reveal[]}
 */
export function auditReveal(reveals) {
  return reveals.map(({ m, r }) => ({ m: [...m], r: [...r] }));
}

// ---------------------------------------------------------------- trustees and decryption

/**
 * A trustee's proof of knowledge of a_i0: c = H(pok, F₀, i, C_i0, A), A = s·G − c·C_i0.
 * @param {object} p
 * @param {string} p.F0 @param {number} p.index @param {string} p.commitment C_i0
 * @param {{c: string, s: string}} p.pok
 * @returns {boolean}
 */
export function verifyPok({ F0, index, commitment, pok }) {
  const C = pointFromHex(commitment, { allowIdentity: false, what: `C_${index}0` });
  const c = scalarFromHex(pok.c);
  const A = mulPublic(G, scalarFromHex(pok.s)).subtract(mulPublic(C, c));
  return hashToScalar(TAGS.pok, [hexToBytes(F0, 32, 'F0'), utf8(String(index)), C.toBytes(), A.toBytes()]) === c;
}

/**
 * V_j = Σ_i Σ_k j^k·C_ik, from every trustee's commitments.
 * @param {string[][]} commitments  per trustee, C_i0..C_i,t−1
 * @param {number} j
 * @returns {string}
 */
export function verificationKey(commitments, j) {
  let total = ZERO;
  for (const row of commitments) {
    let power = 1n;
    for (const C of row) {
      total = total.add(mulPublic(pointFromHex(C), mod(power)));
      power *= BigInt(j);
    }
  }
  return pointToHex(total);
}

/**
 * A decryption share's DLEQ proof that log_G V_j = log_A D_j:
 * c = H(dleq, F, j, V_j, A, D_j, a, b) with a = s·G − c·V_j, b = s·A − c·D_j.
 * @param {object} p
 * @param {string} p.fingerprint @param {number} p.j @param {string} p.verificationKey V_j
 * @param {string} p.A  the summed α @param {{D: string, c: string, s: string}} p.share
 * @returns {boolean}
 */
export function verifyDecryptionShare({ fingerprint, j, verificationKey: Vj, A, share }) {
  const V = pointFromHex(Vj, { allowIdentity: false, what: `V_${j}` });
  const sumAlpha = pointFromHex(A);
  const D = pointFromHex(share.D);
  const c = scalarFromHex(share.c);
  const s = scalarFromHex(share.s);
  const a = mulPublic(G, s).subtract(mulPublic(V, c));
  const b = mulPublic(sumAlpha, s).subtract(mulPublic(D, c));
  const parts = [hexToBytes(fingerprint, 32, 'F'), utf8(String(j)), V.toBytes(), sumAlpha.toBytes(), D.toBytes(), a.toBytes(), b.toBytes()];
  return hashToScalar(TAGS.dleq, parts) === c;
}

/**
 * Lagrange coefficients at 0 for the trustees who posted shares:
 * λ_j = Π_{k∈S, k≠j} k/(k−j) mod ℓ.
 * @param {number[]} indexes @returns {Map<number, bigint>}
 */
export function lagrangeAtZero(indexes) {
  const out = new Map();
  for (const j of indexes) {
    let num = 1n;
    let den = 1n;
    for (const k of indexes) {
      if (k === j) continue;
      num = mod(num * BigInt(k));
      den = mod(den * BigInt(k - j));
    }
    out.set(j, mod(num * invert(den)));
  }
  return out;
}

/**
 * Combine the shares and find the count: M = B − Σλ_j·D_j = count·G, count in [0, most].
 * @param {object} p
 * @param {string} p.B  the summed β @param {{j: number, D: string}[]} p.shares
 * @param {number} p.most  the largest possible count (the total weight)
 * @returns {number}
 */
export function decryptCount({ B, shares, most }) {
  const lambda = lagrangeAtZero(shares.map((share) => share.j));
  let D = ZERO;
  for (const share of shares) D = D.add(mulPublic(pointFromHex(share.D), /** @type {bigint} */ (lambda.get(share.j))));
  const M = pointFromHex(B).subtract(D);
  let guess = ZERO;
  for (let count = 0; count <= most; count++, guess = guess.add(G)) {
    if (guess.equals(M)) return count;
  }
  throw new BallotError('count', `the decrypted sum is not count·G for any count in [0, ${most}]`);
}
