/**
 * The zero-knowledge proofs of council's verifiable ballots (shared/BALLOTS.md), strong
 * Fiat–Shamir: disjunctive Chaum–Pedersen range proofs (made and checked), and the checks of
 * the trustees' proofs of knowledge and decryption shares with the Lagrange combination.
 * How each challenge is hashed is fixed by shared/ballot-vectors.json, which the tests
 * reproduce byte for byte.
 */

import { BallotError, asObject, hexToBytes, utf8 } from './encoding.js';
import {
  G,
  TABLE_FROM,
  TABLE_WINDOW,
  TAGS,
  ZERO,
  hashToScalar,
  invert,
  mod,
  mulPublic,
  mulSecret,
  pointFromHex,
  pointToHex,
  scalarFromHex,
  scalarToHex,
  small,
} from './group.js';

/** @typedef {import('./group.js').Point} Point */
/** @typedef {{c: string, s: string}} ProofBranch  hex scalars, one per value v */
/** @typedef {ProofBranch[]} RangeProof */
/**
 * What binds a proof to its place: the election fingerprint, the voter and the question.
 * @typedef {object} Context
 * @property {string} fingerprint  F, 64 hex characters
 * @property {string} alias        the voter's public alias
 * @property {number} questionIndex  from 0
 */

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
export function proofPlace(context, option) {
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
    ? mulPublic(key, sv)
        .subtract(mulPublic(beta, cv))
        .add(mulPublic(G, mod(cv * BigInt(v))))
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
  // (The identity may be noble's shared Point.ZERO: leave it alone.)
  if (branches < TABLE_FROM || alpha.is0() || beta.is0()) return false;
  alpha.precompute(TABLE_WINDOW);
  beta.precompute(TABLE_WINDOW);
  return true;
}

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
export function proveRange({ key, place, alpha, beta, r, m, values, draw }) {
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
export function readRangeProof(proof, branches, where) {
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
export function rangeProofHolds({ key, place, alpha, beta, branches, values }) {
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
  return (
    hashToScalar(TAGS.pok, [hexToBytes(F0, 32, 'F0'), utf8(String(index)), C.toBytes(), A.toBytes()]) === c
  );
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
  const parts = [
    hexToBytes(fingerprint, 32, 'F'),
    utf8(String(j)),
    V.toBytes(),
    sumAlpha.toBytes(),
    D.toBytes(),
    a.toBytes(),
    b.toBytes(),
  ];
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
  for (const share of shares)
    D = D.add(mulPublic(pointFromHex(share.D), /** @type {bigint} */ (lambda.get(share.j))));
  const M = pointFromHex(B).subtract(D);
  let guess = ZERO;
  for (let count = 0; count <= most; count++, guess = guess.add(G)) {
    if (guess.equals(M)) return count;
  }
  throw new BallotError('count', `the decrypted sum is not count·G for any count in [0, ${most}]`);
}
