/**
 * The group and the hashes of council's verifiable ballots (shared/BALLOTS.md):
 * ristretto255 (RFC 9496) points and scalars mod ℓ, H(tag, parts…) and SHA-256. The only
 * module that imports the vendored noble bundle, so the library can be swapped here (as
 * council/ballots/group.py on the server).
 *
 * JavaScript cannot promise constant-time arithmetic; secret scalars go through noble's
 * constant-time-style `multiply`, public ones through `multiplyUnsafe`.
 */

import { ristretto255, sha256, sha512 } from '../../vendor/noble-curves-2.4.0.mjs';
import { BallotError, bytesToHex, concatBytes, hexToBytes, utf8 } from './encoding.js';

/** @typedef {InstanceType<typeof ristretto255.Point>} Point */

export const Point = ristretto255.Point;
/** The group order ℓ = 2^252 + 27742317777372353535851937790883648493. */
export const ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;
/** The generator G and the identity. */
export const G = Point.BASE;
export const ZERO = Point.ZERO;
export const TAGS = Object.freeze({
  pok: 'council/v1/pok',
  range: 'council/v1/range',
  dleq: 'council/v1/dleq',
});
/**
 * Precomputed tables, for public keys and for the α, β of range proofs with TABLE_FROM
 * branches or more. Measured under node 20: a width-4 table costs about 4 multiplications
 * and makes each later one about 5 times faster than noble's untabled wNAF.
 */
export const TABLE_WINDOW = 4;
export const TABLE_FROM = 8;

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
  if (!allowIdentity && point.is0())
    throw new BallotError('encoding', `${what}: the identity point is not a valid key`);
  return point;
}

/** @param {Point} point @returns {string} */
export function pointToHex(point) {
  return bytesToHex(point.toBytes());
}

/** @param {Point} point @param {bigint} k a public scalar in [0, ℓ) @returns {Point} */
export function mulPublic(point, k) {
  return point.multiplyUnsafe(k);
}

/** @param {Point} point @param {bigint} k a secret scalar in [0, ℓ) @returns {Point} */
export function mulSecret(point, k) {
  return k === 0n ? ZERO : point.multiply(k);
}

/** @param {number} v @returns {Point} v·G, for small public v ≥ 0 */
export function small(v) {
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

/** @param {Uint8Array} bytes @returns {string} hex SHA-256 */
export function sha256Hex(bytes) {
  return bytesToHex(sha256(bytes));
}
