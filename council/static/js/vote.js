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
 * - range-proof challenge: H("council/v1/range", F (32 raw bytes), alias (UTF-8), question
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
/** @typedef {{ok: true} | {ok: false, reason: string}} Check */

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

/** A ballot, proof or encoding that fails a check; `message` says which check. */
export class BallotError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'BallotError';
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
 * @returns {Uint8Array}
 */
export function hexToBytes(hex, length) {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(hex)) {
    throw new BallotError('not lower-case hex');
  }
  if (length !== undefined && hex.length !== 2 * length) {
    throw new BallotError(`expected ${length} bytes of hex, got ${hex.length / 2}`);
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
    if (!Number.isSafeInteger(value)) throw new BallotError(`canonical JSON allows integers only, not ${value}`);
    return String(value);
  }
  if (typeof value === 'string') {
    const text = value.normalize('NFC');
    if (LONE_SURROGATE.test(text)) throw new BallotError('canonical JSON cannot hold a lone surrogate');
    return JSON.stringify(text);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isPlainObject(value)) {
    /** @type {Map<string, unknown>} */
    const entries = new Map();
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) throw new BallotError(`canonical JSON has no undefined (key ${key})`);
      const normal = key.normalize('NFC');
      if (entries.has(normal)) throw new BallotError(`two keys are the same in NFC: ${normal}`);
      entries.set(normal, item);
    }
    const keys = [...entries.keys()].sort(compareCodePoints);
    return `{${keys.map((key) => `${canonicalJson(key)}:${canonicalJson(entries.get(key))}`).join(',')}}`;
  }
  throw new BallotError(`cannot put ${typeof value} in canonical JSON`);
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
  if (x < 0n || x >= ORDER) throw new BallotError('scalar out of range');
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return bytesToHex(out);
}

/**
 * Decode a scalar: 32 bytes little-endian, lower-case hex, strictly below ℓ.
 * @param {string} hex @returns {bigint}
 */
export function scalarFromHex(hex) {
  const x = bytesToIntLE(hexToBytes(hex, 32));
  if (x >= ORDER) throw new BallotError('scalar not reduced mod the group order');
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
  if (r0 === 0n) throw new BallotError('zero has no inverse');
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
 * @param {string} hex
 * @param {{allowIdentity?: boolean}} [options]  false where a key is expected
 * @returns {Point}
 */
export function pointFromHex(hex, { allowIdentity = true } = {}) {
  const bytes = hexToBytes(hex, 32);
  let point;
  try {
    point = Point.fromBytes(bytes);
  } catch {
    throw new BallotError('not a canonical ristretto255 point');
  }
  if (!allowIdentity && point.is0()) throw new BallotError('the identity point where a key is expected');
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
 * Public keys are used for many multiplications per ballot: decode each once and give it a
 * precomputed table (as noble does for the base point).
 * @type {Map<string, Point>}
 */
const keyCache = new Map();

/** @param {string} hex @returns {Point} a non-identity key, with its table */
export function publicKeyFromHex(hex) {
  let key = keyCache.get(hex);
  if (!key) {
    key = pointFromHex(hex, { allowIdentity: false });
    key.precompute(8);
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
 * The fixed prefix of a range-proof challenge: F, alias, question index, option label.
 * @param {Context} context
 * @param {string} label  the option index in decimal, or "overall"
 * @returns {Uint8Array[]}
 */
function challengePrefix(context, label) {
  return [
    hexToBytes(context.fingerprint, 32),
    utf8(context.alias),
    utf8(String(context.questionIndex)),
    utf8(label),
  ];
}

/**
 * Prove that (α, β) = (r·G, m·G + r·Y) with m ∈ values (disjunctive Chaum–Pedersen).
 * @param {object} p
 * @param {Point} p.key  Y
 * @param {Uint8Array[]} p.prefix  from challengePrefix
 * @param {Point} p.alpha @param {Point} p.beta
 * @param {bigint} p.r @param {number} p.m
 * @param {number[]} p.values  increasing
 * @returns {RangeProof}
 */
function proveRange({ key, prefix, alpha, beta, r, m, values }) {
  const real = values.indexOf(m);
  if (real < 0) throw new BallotError(`value ${m} is not in the proof's range`);
  const w = randomScalar();
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
      const cv = randomScalar();
      const sv = randomScalar();
      A = mulPublic(G, sv).subtract(mulPublic(alpha, cv));
      B = mulPublic(key, sv).subtract(mulPublic(beta.subtract(small(v)), cv));
      c.push(cv);
      s.push(sv);
    }
    commitments.push(A.toBytes(), B.toBytes());
  });
  const challenge = hashToScalar(TAGS.range, [...prefix, alpha.toBytes(), beta.toBytes(), ...commitments]);
  c[real] = mod(challenge - c.reduce((sum, cv) => sum + cv, 0n));
  s[real] = mod(w + c[real] * r);
  return values.map((_, i) => ({ c: scalarToHex(c[i]), s: scalarToHex(s[i]) }));
}

/**
 * Check a range proof: rebuild every A_v, B_v and compare Σc_v with the challenge.
 * @param {object} p
 * @param {Point} p.key @param {Uint8Array[]} p.prefix
 * @param {Point} p.alpha @param {Point} p.beta
 * @param {unknown} p.proof @param {number[]} p.values
 * @returns {boolean}
 */
function rangeProofHolds({ key, prefix, alpha, beta, proof, values }) {
  if (!Array.isArray(proof) || proof.length !== values.length) {
    throw new BallotError(`expected ${values.length} branches`);
  }
  let sum = 0n;
  /** @type {Uint8Array[]} */ const commitments = [];
  values.forEach((v, i) => {
    const branch = proof[i];
    exactKeys(branch, ['c', 's'], 'a proof branch');
    const cv = scalarFromHex(branch.c);
    const sv = scalarFromHex(branch.s);
    const A = mulPublic(G, sv).subtract(mulPublic(alpha, cv));
    const B = mulPublic(key, sv).subtract(mulPublic(beta.subtract(small(v)), cv));
    commitments.push(A.toBytes(), B.toBytes());
    sum += cv;
  });
  const challenge = hashToScalar(TAGS.range, [...prefix, alpha.toBytes(), beta.toBytes(), ...commitments]);
  return mod(sum) === challenge;
}

/** @param {number} lo @param {number} hi @returns {number[]} lo..hi */
function range(lo, hi) {
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

/**
 * @param {unknown} value @param {string[]} keys @param {string} what
 * @returns {asserts value is Record<string, any>}
 */
function exactKeys(value, keys, what) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new BallotError(`${what} is not an object`);
  const have = Object.keys(value).sort();
  if (have.length !== keys.length || keys.some((k) => !have.includes(k))) {
    throw new BallotError(`${what} must have exactly the fields ${keys.join(', ')}`);
  }
}

// ---------------------------------------------------------------- questions

/**
 * The rule of a question: the weight of each option in the overall sum and the values the
 * overall proof covers.
 * @param {Question} question
 * @returns {{weights: number[], values: number[], budget: boolean}}
 */
export function questionRule(question) {
  const k = question.options?.length;
  if (!Number.isInteger(k) || k < 1) throw new BallotError('a question needs at least one option');
  const isInt = (/** @type {unknown} */ x) => Number.isSafeInteger(x) && /** @type {number} */ (x) >= 0;
  if (question.costs != null || question.budget != null) {
    const { costs, budget } = question;
    if (!Array.isArray(costs) || costs.length !== k || !costs.every(isInt)) {
      throw new BallotError('a budget question needs one whole, non-negative cost per option');
    }
    if (!isInt(budget) || /** @type {number} */ (budget) > MAX_BUDGET) {
      throw new BallotError(`a budget must be a whole number from 0 to ${MAX_BUDGET}`);
    }
    return { weights: costs, values: range(0, /** @type {number} */ (budget)), budget: true };
  }
  const { min, max } = question;
  if (!isInt(min) || !isInt(max) || min > max || max > k) throw new BallotError('bad min/max for the question');
  return { weights: Array(k).fill(1), values: range(min, max), budget: false };
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
 * @returns {{answer: Answer, reveal: Reveal}}  keep `reveal` secret unless the voter audits
 */
export function encryptAnswer({ publicKey, fingerprint, alias, questionIndex, question, selection }) {
  const key = publicKeyFromHex(publicKey);
  const context = checkedContext({ fingerprint, alias, questionIndex });
  const rule = questionRule(question);
  if (!Array.isArray(selection) || selection.length !== rule.weights.length || !selection.every((m) => m === 0 || m === 1)) {
    throw new BallotError(`the selection must be 0 or 1 for each of the ${rule.weights.length} options`);
  }
  const total = selection.reduce((sum, m, j) => sum + m * rule.weights[j], 0);
  if (!rule.values.includes(total)) {
    throw new BallotError(
      rule.budget
        ? `the selection costs ${total}, over the budget of ${question.budget}`
        : `select from ${question.min} to ${question.max} options, not ${total}`,
    );
  }
  const choicePoints = [ZERO, G];
  /** @type {Ciphertext[]} */ const choices = [];
  /** @type {RangeProof[]} */ const proofs = [];
  const rs = selection.map(() => randomScalar());
  let sumAlpha = ZERO;
  let sumBeta = ZERO;
  let sumR = 0n;
  selection.forEach((m, j) => {
    const r = rs[j];
    const alpha = mulSecret(G, r);
    const beta = choicePoints[m].add(mulSecret(key, r));
    choices.push({ alpha: pointToHex(alpha), beta: pointToHex(beta) });
    proofs.push(proveRange({ key, prefix: challengePrefix(context, String(j)), alpha, beta, r, m, values: [0, 1] }));
    const w = BigInt(rule.weights[j]);
    sumAlpha = sumAlpha.add(mulPublic(alpha, w));
    sumBeta = sumBeta.add(mulPublic(beta, w));
    sumR += w * r;
  });
  const overall = proveRange({
    key,
    prefix: challengePrefix(context, 'overall'),
    alpha: sumAlpha,
    beta: sumBeta,
    r: mod(sumR),
    m: total,
    values: rule.values,
  });
  return { answer: { choices, proofs, overall }, reveal: { m: [...selection], r: rs.map(scalarToHex) } };
}

/** @param {Context} context @returns {Context} */
function checkedContext({ fingerprint, alias, questionIndex }) {
  hexToBytes(fingerprint, 32);
  if (typeof alias !== 'string' || alias === '') throw new BallotError('the alias must be a non-empty string');
  // The board stores canonical (NFC) JSON, and the proofs hash the alias as written: a
  // non-NFC alias would not match its own proofs once on the board.
  if (alias !== alias.normalize('NFC')) throw new BallotError('the alias must be in NFC');
  if (!Number.isSafeInteger(questionIndex) || questionIndex < 0) throw new BallotError('bad question index');
  return { fingerprint, alias, questionIndex };
}

/**
 * Check one question's answer as the server does: its shape, every point canonical, every
 * scalar canonical, each option's proof over {0, 1}, the overall proof over the range.
 * Throws a BallotError naming the first failing check.
 * @param {object} p
 * @param {string} p.publicKey @param {string} p.fingerprint @param {string} p.alias
 * @param {number} p.questionIndex @param {Question} p.question
 * @param {unknown} p.answer
 */
export function checkAnswer({ publicKey, fingerprint, alias, questionIndex, question, answer }) {
  const key = publicKeyFromHex(publicKey);
  const context = checkedContext({ fingerprint, alias, questionIndex });
  const rule = questionRule(question);
  exactKeys(answer, ['choices', 'proofs', 'overall'], 'the answer');
  const { choices, proofs, overall } = answer;
  const k = rule.weights.length;
  if (!Array.isArray(choices) || choices.length !== k) throw new BallotError(`expected ${k} encrypted choices`);
  if (!Array.isArray(proofs) || proofs.length !== k) throw new BallotError(`expected ${k} choice proofs`);
  let sumAlpha = ZERO;
  let sumBeta = ZERO;
  choices.forEach((choice, j) => {
    const where = `option ${j}`;
    exactKeys(choice, ['alpha', 'beta'], `the ciphertext of ${where}`);
    let alpha;
    let beta;
    try {
      alpha = pointFromHex(choice.alpha);
      beta = pointFromHex(choice.beta);
    } catch (error) {
      throw new BallotError(`${where}: ${/** @type {Error} */ (error).message}`);
    }
    if (!holds(() => rangeProofHolds({ key, prefix: challengePrefix(context, String(j)), alpha, beta, proof: proofs[j], values: [0, 1] }), where)) {
      throw new BallotError(`${where}: the proof that the choice is 0 or 1 fails`);
    }
    const w = BigInt(rule.weights[j]);
    sumAlpha = sumAlpha.add(mulPublic(alpha, w));
    sumBeta = sumBeta.add(mulPublic(beta, w));
  });
  const prefix = challengePrefix(context, 'overall');
  if (!holds(() => rangeProofHolds({ key, prefix, alpha: sumAlpha, beta: sumBeta, proof: overall, values: rule.values }), 'the overall proof')) {
    throw new BallotError(
      rule.budget ? 'the proof that the total cost is within the budget fails' : 'the proof of the number of selected options fails',
    );
  }
}

/**
 * Run a proof check, prefixing a BallotError raised inside with where it happened.
 * @param {() => boolean} check @param {string} where
 */
function holds(check, where) {
  try {
    return check();
  } catch (error) {
    if (error instanceof BallotError) throw new BallotError(`${where}: ${error.message}`);
    throw error;
  }
}

/**
 * checkAnswer as a result instead of an exception.
 * @param {Parameters<typeof checkAnswer>[0]} p
 * @returns {Check}
 */
export function verifyAnswer(p) {
  try {
    checkAnswer(p);
    return { ok: true };
  } catch (error) {
    if (error instanceof BallotError) return { ok: false, reason: error.message };
    throw error;
  }
}

// ---------------------------------------------------------------- whole ballots

/**
 * Encrypt a whole ballot: one answer per question.
 * @param {object} p
 * @param {string} p.publicKey @param {string} p.fingerprint @param {string} p.alias
 * @param {Question[]} p.questions
 * @param {number[][]} p.selections  one selection per question
 * @returns {{ballot: {alias: string, answers: Answer[]}, reveal: Reveal[], trackingCode: string}}
 */
export function encryptBallot({ publicKey, fingerprint, alias, questions, selections }) {
  if (!Array.isArray(selections) || selections.length !== questions.length) {
    throw new BallotError('one selection per question');
  }
  const made = questions.map((question, questionIndex) =>
    encryptAnswer({ publicKey, fingerprint, alias, questionIndex, question, selection: selections[questionIndex] }),
  );
  const ballot = { alias, answers: made.map((x) => x.answer) };
  return { ballot, reveal: made.map((x) => x.reveal), trackingCode: trackingCode(ballot) };
}

/**
 * Check every answer of a ballot ({alias, answers}); the result names the first failure.
 * @param {object} p
 * @param {string} p.publicKey @param {string} p.fingerprint @param {Question[]} p.questions
 * @param {{alias: string, answers: unknown[]}} p.ballot
 * @returns {Check}
 */
export function verifyBallot({ publicKey, fingerprint, questions, ballot }) {
  if (!Array.isArray(ballot?.answers) || ballot.answers.length !== questions.length) {
    return { ok: false, reason: `expected ${questions.length} answers` };
  }
  for (const [questionIndex, question] of questions.entries()) {
    const result = verifyAnswer({ publicKey, fingerprint, alias: ballot.alias, questionIndex, question, answer: ballot.answers[questionIndex] });
    if (!result.ok) return { ok: false, reason: `question ${questionIndex}: ${result.reason}` };
  }
  return { ok: true };
}

/**
 * The tracking code: hex SHA-256 of canonical({alias, answers}).
 * @param {{alias: string, answers: Answer[]}} ballot  other fields (cast_at…) are ignored
 * @returns {string}
 */
export function trackingCode({ alias, answers }) {
  return sha256Hex(canonicalBytes({ alias, answers }));
}

/**
 * A short form of the tracking code for the voter to compare by eye: the first 8 hex
 * digits in two groups (shared/BALLOTS.md does not fix the short form).
 * @param {string} code @returns {string}
 */
export function shortTrackingCode(code) {
  return `${code.slice(0, 4)}-${code.slice(4, 8)}`;
}

/**
 * Benaloh audit, the check any device can run: does each ciphertext encrypt the revealed
 * m_j with the revealed r_j (α = r·G, β = m·G + r·Y)?
 * @param {object} p
 * @param {string} p.publicKey @param {Answer} p.answer @param {Reveal} p.reveal
 * @returns {Check}
 */
export function verifyReveal({ publicKey, answer, reveal }) {
  try {
    const key = publicKeyFromHex(publicKey);
    exactKeys(reveal, ['m', 'r'], 'the reveal');
    const { m, r } = reveal;
    if (!Array.isArray(m) || !Array.isArray(r) || m.length !== answer.choices.length || r.length !== m.length) {
      return { ok: false, reason: 'the reveal must give one m and one r per option' };
    }
    for (const [j, choice] of answer.choices.entries()) {
      if (m[j] !== 0 && m[j] !== 1) return { ok: false, reason: `option ${j}: m is not 0 or 1` };
      const rj = scalarFromHex(r[j]);
      const alpha = pointFromHex(choice.alpha);
      const beta = pointFromHex(choice.beta);
      if (!alpha.equals(mulPublic(G, rj)) || !beta.equals(small(m[j]).add(mulPublic(key, rj)))) {
        return { ok: false, reason: `option ${j}: the ciphertext does not encrypt the revealed choice` };
      }
    }
    return { ok: true };
  } catch (error) {
    if (error instanceof BallotError) return { ok: false, reason: error.message };
    throw error;
  }
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
  const C = pointFromHex(commitment, { allowIdentity: false });
  const c = scalarFromHex(pok.c);
  const A = mulPublic(G, scalarFromHex(pok.s)).subtract(mulPublic(C, c));
  return hashToScalar(TAGS.pok, [hexToBytes(F0, 32), utf8(String(index)), C.toBytes(), A.toBytes()]) === c;
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
 * A decryption share's DLEQ proof: log_G V_j = log_A D_j, with
 * c = H(dleq, F, j, V_j, A, D_j, a, b), a = s·G − c·V_j, b = s·A − c·D_j.
 * @param {object} p
 * @param {string} p.fingerprint @param {number} p.j @param {string} p.verificationKey V_j
 * @param {string} p.A  the summed α @param {{D: string, c: string, s: string}} p.share
 * @returns {boolean}
 */
export function verifyDecryptionShare({ fingerprint, j, verificationKey: Vj, A, share }) {
  const V = pointFromHex(Vj, { allowIdentity: false });
  const a0 = pointFromHex(A);
  const D = pointFromHex(share.D);
  const c = scalarFromHex(share.c);
  const s = scalarFromHex(share.s);
  const a = mulPublic(G, s).subtract(mulPublic(V, c));
  const b = mulPublic(a0, s).subtract(mulPublic(D, c));
  const parts = [hexToBytes(fingerprint, 32), utf8(String(j)), V.toBytes(), a0.toBytes(), D.toBytes(), a.toBytes(), b.toBytes()];
  return hashToScalar(TAGS.dleq, parts) === c;
}

/**
 * Lagrange coefficients at 0 for the set of trustees who posted shares:
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
 * @param {string} p.B the summed β @param {{j: number, D: string}[]} p.shares
 * @param {number} p.most the largest possible count (the total weight)
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
  throw new BallotError(`the count is not in [0, ${most}]`);
}
