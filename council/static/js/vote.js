/**
 * vote.js: the voter's side of council's verifiable secret ballots (shared/BALLOTS.md).
 *
 * Everything here runs in the voter's browser (and under node in the tests): the server
 * never sees a choice in clear. For each question the page encrypts one 0/1 value per
 * option with exponential ElGamal on ristretto255 under the trustees' joint key Y, proves
 * each value is 0 or 1, and proves the sum (or the weighted cost, for a budget question)
 * lies in the allowed range. Every proof binds the election fingerprint F, the voter's
 * public alias, the question index and the option index, so a ballot copied to another
 * voter, question or option no longer verifies. The same checks run here as on the server
 * (council/ballots/encrypt.py), with the same check names.
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
 * This module is the page's entry point and re-exports what a page or a verifier needs from
 * ballots/encoding.js (hex, canonical JSON, errors), ballots/group.js (ristretto255 and the
 * hashes, the only importer of the vendored noble bundle) and ballots/proofs.js. No
 * framework, no build step: the browser loads them as ES modules.
 */

import { BallotError, asList, asObject, canonicalBytes, hexToBytes } from './ballots/encoding.js';
import {
  G,
  ZERO,
  mod,
  mulPublic,
  mulSecret,
  pointFromHex,
  pointToHex,
  publicKeyFromHex,
  randomScalar,
  scalarFromHex,
  scalarToHex,
  sha256Hex,
  small,
} from './ballots/group.js';
import { proofPlace, proveRange, rangeProofHolds, readRangeProof } from './ballots/proofs.js';

export {
  BallotError,
  bytesToHex,
  canonicalBytes,
  canonicalJson,
  hexToBytes,
  utf8,
} from './ballots/encoding.js';
export {
  ORDER,
  Point,
  TAGS,
  hashToScalar,
  invert,
  mod,
  pointFromHex,
  pointToHex,
  publicKeyFromHex,
  randomScalar,
  scalarFromHex,
  scalarToHex,
  sha256Hex,
} from './ballots/group.js';
export {
  decryptCount,
  lagrangeAtZero,
  verificationKey,
  verifyDecryptionShare,
  verifyPok,
} from './ballots/proofs.js';

/** @typedef {import('./ballots/encoding.js').Check} Check */
/** @typedef {import('./ballots/proofs.js').Context} Context */
/** @typedef {import('./ballots/proofs.js').RangeProof} RangeProof */

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
/**
 * One question's encrypted answer, as on the board.
 * @typedef {object} Answer
 * @property {Ciphertext[]} choices  one per option
 * @property {RangeProof[]} proofs   one per option, over the values {0, 1}
 * @property {RangeProof} overall    over min..max (or 0..budget for a budget question)
 */
/** @typedef {{m: number[], r: string[]}} Reveal  the Benaloh audit: the choices and randomness */

/** The largest budget a budget question may have (shared/BALLOTS.md). */
export const MAX_BUDGET = 200;

// ---------------------------------------------------------------- questions

/** @param {number} lo @param {number} hi @returns {number[]} lo..hi */
function range(lo, hi) {
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

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
  const whole = (/** @type {unknown} */ x, /** @type {number} */ least) =>
    Number.isSafeInteger(x) && /** @type {number} */ (x) >= least;
  const { costs, budget } = question;
  if (costs != null || budget != null) {
    if (!Array.isArray(costs) || costs.length !== k || !costs.every((cost) => whole(cost, 1))) {
      throw new RangeError('a budget question has one positive whole cost per option');
    }
    if (!whole(budget, 1) || /** @type {number} */ (budget) > MAX_BUDGET) {
      throw new RangeError(`a budget is 1..${MAX_BUDGET} units`);
    }
    return {
      weights: costs,
      values: range(0, /** @type {number} */ (budget)),
      budget: /** @type {number} */ (budget),
    };
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
  if (!Number.isSafeInteger(questionIndex) || questionIndex < 0)
    throw new RangeError('a question index is a whole number ≥ 0');
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
export function encryptAnswer({
  publicKey,
  fingerprint,
  alias,
  questionIndex,
  question,
  selection,
  draw = randomScalar,
}) {
  const key = publicKeyFromHex(publicKey);
  const context = checkedContext({ fingerprint, alias, questionIndex });
  const rule = questionRule(question);
  const where = `answers[${questionIndex}]`;
  if (
    !Array.isArray(selection) ||
    selection.length !== rule.weights.length ||
    !selection.every((m) => m === 0 || m === 1)
  ) {
    throw new BallotError(
      'selection',
      `${where}: the selection must be 0 or 1 for each of the ${rule.weights.length} options`,
    );
  }
  const total = selection.reduce((/** @type {number} */ sum, m, j) => sum + m * rule.weights[j], 0);
  if (!rule.values.includes(total)) {
    throw new BallotError(
      'selection',
      `${where}: the selection breaks the question's rule (${overallMeaning(rule)})`,
    );
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
    return {
      alpha: pointFromHex(alpha, { what: `${at}.alpha` }),
      beta: pointFromHex(beta, { what: `${at}.beta` }),
    };
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
  if (
    !rangeProofHolds({ key, place, alpha: sumAlpha, beta: sumBeta, branches: overall, values: rule.values })
  ) {
    throw new BallotError(
      'overall',
      `${place.where}: the proof that ${overallMeaning(rule)} does not verify`,
    );
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
    encryptAnswer({
      publicKey,
      fingerprint,
      alias,
      questionIndex,
      question,
      selection: selections[questionIndex],
      draw,
    }),
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
      checkAnswer({
        publicKey,
        fingerprint,
        alias: ballot.alias,
        questionIndex,
        question,
        answer: answers[questionIndex],
      }),
    );
  });
}

/**
 * The tracking code: hex SHA-256 of canonical({alias, answers}), answers in the board's shape.
 * @param {{alias: string, answers: unknown, [field: string]: unknown}} ballot  other fields
 *   (cast_at, reveal…) are ignored
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
    const r = asList(fields.r, `${where}.reveal.r`).map((x, j) =>
      scalarFromHex(x, `${where}.reveal.r[${j}]`),
    );
    if (m.some((v) => !Number.isSafeInteger(v)))
      throw new BallotError('encoding', `${where}.reveal.m must hold integers`);
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
        throw new BallotError(
          'reveal',
          `${where}.choices[${j}]: the revealed m and r do not give this ciphertext`,
        );
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
