// vote.js against the known-answer vectors (shared/ballot-vectors.json) and in property
// loops. Run with `node --test tests/ballots/js/` (node's own runner, no npm packages).

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import { noble, vote } from './load.mjs';
import { loadVectors, vectorDraw } from './support.mjs';

const { ristretto255, sha256, sha512 } = noble;

const V = loadVectors();
const B = V.ballot;
const Y = V.trustees.public_key;
const YES_NO_ABSTAIN = {
  text: '?',
  options: ['赞成', '反对', '弃权'],
  min: 1,
  max: 1,
  costs: null,
  budget: null,
};
const bytes = (/** @type {string} */ hex) => Buffer.from(hex, 'hex');
const nodeSha256 = (/** @type {Uint8Array} */ data) => createHash('sha256').update(data).digest('hex');
const clone = (/** @type {any} */ x) => structuredClone(x);

/** The vector ballot's answer in the board's shape. */
function vectorAnswer() {
  return { choices: clone(B.choices), proofs: clone(B.proofs), overall: clone(B.overall) };
}

/** verifyAnswer with the vector's election, overridable. */
function verify(/** @type {any} */ answer, /** @type {any} */ over = {}) {
  return vote.verifyAnswer({
    publicKey: Y,
    fingerprint: B.F,
    alias: B.alias,
    questionIndex: B.question_index,
    question: YES_NO_ABSTAIN,
    answer,
    ...over,
  });
}

/** A different canonical point (a random multiple of G), as hex. */
function otherPoint() {
  return vote.pointToHex(vote.Point.BASE.multiply(vote.randomScalar()));
}

describe('the vendored noble bundle', () => {
  it('exports ristretto255, sha256 and sha512 that agree with node', () => {
    assert.equal(typeof ristretto255.Point.fromBytes, 'function');
    const data = new TextEncoder().encode('社区 council');
    assert.equal(Buffer.from(sha256(data)).toString('hex'), nodeSha256(data));
    assert.equal(Buffer.from(sha512(data)).toString('hex'), createHash('sha512').update(data).digest('hex'));
  });
});

describe('known-answer vectors', () => {
  it('has the group order', () => {
    assert.equal(V.group, 'ristretto255');
    assert.equal(BigInt(V.order), vote.ORDER);
  });

  it('reproduces hash_to_scalar', () => {
    for (const { tag, parts_hex, scalar } of V.hash_to_scalar) {
      const parts = parts_hex.map((/** @type {string} */ h) => vote.hexToBytes(h));
      assert.equal(vote.scalarToHex(vote.hashToScalar(tag, parts)), scalar, tag);
    }
  });

  it('reproduces canonical_json', () => {
    for (const { input, canonical_utf8_hex, sha256: digest } of V.canonical_json) {
      const text = vote.canonicalBytes(input);
      assert.equal(vote.bytesToHex(text), canonical_utf8_hex);
      assert.equal(vote.sha256Hex(text), digest);
      assert.equal(nodeSha256(text), digest);
    }
  });

  it('reproduces base_multiples', () => {
    for (const { k, point } of V.base_multiples) {
      assert.equal(vote.pointToHex(vote.Point.BASE.multiplyUnsafe(BigInt(k))), point, `k=${k}`);
    }
  });

  it("verifies the trustees' proofs of knowledge, keys and test shares", () => {
    const { F0, commitments, pok, verification_keys, public_key, shares_for_testing_only, n } = V.trustees;
    for (const { i, c, s } of pok) {
      assert.ok(
        vote.verifyPok({ F0, index: i, commitment: commitments[i - 1][0], pok: { c, s } }),
        `pok ${i}`,
      );
      assert.ok(
        !vote.verifyPok({ F0, index: (i % n) + 1, commitment: commitments[i - 1][0], pok: { c, s } }),
      );
      assert.ok(!vote.verifyPok({ F0: B.F, index: i, commitment: commitments[i - 1][0], pok: { c, s } }));
    }
    let joint = vote.Point.ZERO;
    for (const row of commitments) joint = joint.add(vote.pointFromHex(row[0]));
    assert.equal(vote.pointToHex(joint), public_key);
    for (let j = 1; j <= n; j++) {
      assert.equal(vote.verificationKey(commitments, j), verification_keys[String(j)], `V_${j}`);
      const share = vote.scalarFromHex(shares_for_testing_only[String(j)]);
      assert.equal(vote.pointToHex(vote.Point.BASE.multiply(share)), verification_keys[String(j)]);
    }
  });

  it('verifies the ballot vector', () => {
    assert.deepEqual(verify(vectorAnswer()), { ok: true });
  });

  it('reproduces the ballot vector byte for byte from the generator draws', () => {
    const { answer, reveal } = vote.encryptAnswer({
      publicKey: Y,
      fingerprint: B.F,
      alias: B.alias,
      questionIndex: B.question_index,
      question: YES_NO_ABSTAIN,
      selection: B.plaintext,
      draw: vectorDraw(1009),
    });
    assert.deepEqual(answer, vectorAnswer());
    assert.deepEqual(reveal.m, B.plaintext);
    assert.deepEqual(vote.verifyReveal({ publicKey: Y, answer: vectorAnswer(), reveal }), { ok: true });
  });

  it('verifies the decryption shares and finds the plaintext', () => {
    const D = V.decryption;
    assert.equal(D.of, 'ballot.choices[1]');
    const A = B.choices[1].alpha;
    for (const share of D.shares) {
      const key = V.trustees.verification_keys[String(share.j)];
      assert.ok(
        vote.verifyDecryptionShare({ fingerprint: B.F, j: share.j, verificationKey: key, A, share }),
        `share ${share.j}`,
      );
      const other = D.shares.find((/** @type {any} */ x) => x.j !== share.j);
      assert.ok(
        !vote.verifyDecryptionShare({
          fingerprint: B.F,
          j: share.j,
          verificationKey: key,
          A,
          share: { ...share, D: other.D },
        }),
      );
      assert.ok(
        !vote.verifyDecryptionShare({
          fingerprint: V.trustees.F0,
          j: share.j,
          verificationKey: key,
          A,
          share,
        }),
      );
    }
    const lambda = vote.lagrangeAtZero(D.trustees);
    for (const j of D.trustees)
      assert.equal(vote.scalarToHex(/** @type {bigint} */ (lambda.get(j))), D.lagrange[String(j)]);
    assert.equal(vote.decryptCount({ B: B.choices[1].beta, shares: D.shares, most: 1 }), D.plaintext);
  });

  it('gives the vector ballot a tracking code over canonical {alias, answers}', () => {
    const ballot = { alias: B.alias, answers: [vectorAnswer()] };
    const code = vote.trackingCode({ ...ballot, cast_at: '2026-01-01T00:00:00Z' });
    const answer = `{"choices":${JSON.stringify(B.choices)},"overall":${JSON.stringify(B.overall)},"proofs":${JSON.stringify(B.proofs)}}`;
    const text = `{"alias":${JSON.stringify(B.alias)},"answers":[${answer}]}`;
    assert.equal(code, nodeSha256(Buffer.from(text, 'utf-8')));
    assert.match(vote.shortTrackingCode(code), /^[0-9a-f]{4}-[0-9a-f]{4}$/);
  });
});

describe('canonical JSON', () => {
  it('sorts keys by code point, normalises to NFC and escapes as Python does', () => {
    // JavaScript's default sort would put U+1F600 (a surrogate pair) before U+FFFF.
    assert.equal(
      vote.canonicalJson({ '\u{1F600}': 1, '\uFFFF': 2, b: [true, false, null], a: 'e\u0301' }),
      '{"a":"é","b":[true,false,null],"\uFFFF":2,"\u{1F600}":1}',
    );
    assert.equal(
      vote.canonicalJson({ s: 'a"b\\c\n\t\u001f\u007f' }),
      '{"s":"a\\"b\\\\c\\n\\t\\u001f\u007f"}',
    );
    assert.equal(vote.canonicalJson({ big: 2n ** 70n, neg: -3 }), '{"big":1180591620717411303424,"neg":-3}');
  });

  it('refuses floats, lone surrogates, undefined and two keys equal in NFC', () => {
    assert.throws(() => vote.canonicalJson({ x: 1.5 }), vote.BallotError);
    assert.throws(() => vote.canonicalJson([Number.NaN]), vote.BallotError);
    assert.throws(() => vote.canonicalJson('\uD800'), vote.BallotError);
    assert.throws(() => vote.canonicalJson({ x: undefined }), vote.BallotError);
    assert.throws(() => vote.canonicalJson({ é: 1, 'e\u0301': 2 }), vote.BallotError);
    assert.throws(() => vote.canonicalJson(new Date()), vote.BallotError);
  });
});

describe('decoding', () => {
  const NON_CANONICAL = [
    '00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', // ≥ 2^255
    'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // ≥ p
    'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // = p
    'f3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // > p
    '0100000000000000000000000000000000000000000000000000000000000000', // s negative (odd)
    '01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // s negative
    '26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371', // not a square (RFC 9496)
    '4eac077a713c57b4f4397629a4145982c661f48044dd3f96427d40b147d9742f', // not a square (RFC 9496)
  ];

  it('rejects non-canonical point encodings', () => {
    for (const hex of NON_CANONICAL) {
      assert.throws(
        () => vote.pointFromHex(hex),
        (e) => e instanceof vote.BallotError && e.check === 'encoding',
        hex,
      );
    }
  });

  it('rejects upper-case or short hex, and the identity as a key only', () => {
    assert.throws(() => vote.pointFromHex(V.base_multiples[1].point.toUpperCase()), vote.BallotError);
    assert.throws(() => vote.pointFromHex(V.base_multiples[1].point.slice(2)), vote.BallotError);
    const identity = V.base_multiples[0].point;
    assert.ok(vote.pointFromHex(identity).is0());
    assert.throws(() => vote.pointFromHex(identity, { allowIdentity: false }), vote.BallotError);
    assert.throws(() => vote.publicKeyFromHex(identity), vote.BallotError);
  });

  it('rejects scalars that are not reduced mod ℓ, so a proof has one spelling', () => {
    const le = (/** @type {bigint} */ x) =>
      Buffer.from(x.toString(16).padStart(64, '0'), 'hex').reverse().toString('hex');
    assert.equal(vote.scalarFromHex(le(vote.ORDER - 1n)), vote.ORDER - 1n);
    assert.throws(
      () => vote.scalarFromHex(le(vote.ORDER)),
      (e) => e instanceof vote.BallotError && e.check === 'encoding',
    );
    assert.throws(() => vote.scalarFromHex(le(2n ** 256n - 1n)), vote.BallotError);
    const answer = vectorAnswer();
    const c = vote.scalarFromHex(answer.proofs[0][0].c);
    answer.proofs[0][0].c = le(c + vote.ORDER); // the same c mod ℓ, still 32 bytes
    const result = verify(answer);
    assert.equal(result.ok || result.check, 'encoding');
  });
});

// ---------------------------------------------------------------- property loops

const F = B.F;
const randomInt = (/** @type {number} */ n) => Math.floor(Math.random() * n);

/** @param {any} question @returns {number[]} a random selection the question allows */
function randomSelection(question) {
  const k = question.options.length;
  for (;;) {
    const m = Array.from({ length: k }, () => randomInt(2));
    const weights = question.costs ?? Array(k).fill(1);
    const total = m.reduce((sum, x, j) => sum + x * weights[j], 0);
    const ok =
      question.budget != null ? total <= question.budget : question.min <= total && total <= question.max;
    if (ok) return m;
  }
}

/** @param {number} k @returns {number[]} yes/no/abstain: exactly one */
const oneOf = (k) => {
  const m = Array(k).fill(0);
  m[randomInt(k)] = 1;
  return m;
};

/**
 * Ways to spoil a valid answer, each with the check that must name it.
 * @type {[string, string, (a: any) => void][]}
 */
const TAMPERS = [
  ['another alpha', 'range', (a) => (a.choices[0].alpha = otherPoint())],
  ['another beta', 'range', (a) => (a.choices[a.choices.length - 1].beta = otherPoint())],
  ['a c changed', 'range', (a) => (a.proofs[0][1].c = vote.scalarToHex(vote.randomScalar()))],
  [
    'an s changed',
    'range',
    (a) => (a.proofs[a.proofs.length - 1][0].s = vote.scalarToHex(vote.randomScalar())),
  ],
  ['branches swapped', 'range', (a) => a.proofs[0].reverse()],
  ['overall c changed', 'overall', (a) => (a.overall[0].c = vote.scalarToHex(vote.randomScalar()))],
  ['a branch missing', 'shape', (a) => a.proofs[0].pop()],
  ['a choice missing', 'shape', (a) => a.choices.pop()],
  [
    'a non-canonical point',
    'encoding',
    (a) => (a.choices[0].beta = 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'),
  ],
  ['an extra key', 'encoding', (a) => (a.choices[0].gamma = a.choices[0].alpha)],
];

/**
 * Encrypt `runs` random answers to `question`; each must verify (and its reveal), and fail
 * when tampered with, or checked for another alias, question index or election.
 * @param {any} question @param {number} runs @param {(q: any) => number[]} select
 */
function propertyLoop(question, runs, select) {
  for (let run = 0; run < runs; run++) {
    const selection = select(question);
    const alias = `${1 + randomInt(9)}-${1 + randomInt(6)}-0${100 + randomInt(900)}`;
    const questionIndex = randomInt(4);
    const common = { publicKey: Y, fingerprint: F, alias, questionIndex, question };
    const { answer, reveal } = vote.encryptAnswer({ ...common, selection });
    assert.deepEqual(vote.verifyAnswer({ ...common, answer }), { ok: true }, `run ${run}: ${selection}`);
    assert.deepEqual(vote.verifyReveal({ publicKey: Y, questionIndex, answer, reveal }), { ok: true });
    assert.deepEqual(reveal.m, selection);

    // A proof made for one alias (question, election) fails for another.
    for (const [field, value] of [
      ['alias', `${alias}x`],
      ['questionIndex', questionIndex + 1],
      ['fingerprint', V.trustees.F0],
    ]) {
      const result = vote.verifyAnswer({ ...common, [field]: value, answer });
      assert.equal(result.ok, false, `${field} changed`);
      assert.equal(result.ok || result.check, 'range');
    }
    const [name, check, spoil] = TAMPERS[run % TAMPERS.length];
    const bad = clone(answer);
    spoil(bad);
    const result = vote.verifyAnswer({ ...common, answer: bad });
    assert.equal(result.ok, false, name);
    assert.equal(result.ok || result.check, check, `${name}: ${result.ok || result.reason}`);

    const wrong = clone(reveal);
    wrong.m[0] = 1 - wrong.m[0];
    const spoilt = vote.verifyReveal({ publicKey: Y, questionIndex, answer, reveal: wrong });
    assert.equal(spoilt.ok || spoilt.check, 'reveal');
  }
}

// Random cases per loop (the Python side's hypothesis tests cover the same ground at length).
const RUNS = Number(process.env.COUNCIL_JS_RUNS ?? 20);

describe('property loops', () => {
  it('random yes/no/abstain answers verify; tampered ones fail', () => {
    propertyLoop(YES_NO_ABSTAIN, RUNS, (q) => oneOf(q.options.length));
  });

  it('random approval answers (0 to 3 of 5) verify; tampered ones fail', () => {
    const question = {
      text: '?',
      options: ['A', 'B', 'C', 'D', 'E'],
      min: 0,
      max: 3,
      costs: null,
      budget: null,
    };
    propertyLoop(question, RUNS, randomSelection);
  });

  it('random budget answers verify; tampered ones fail', () => {
    propertyLoop(
      { text: '?', options: ['A', 'B', 'C', 'D'], min: 0, max: 4, costs: [3, 5, 2, 7], budget: 12 },
      RUNS,
      randomSelection,
    );
  });

  it('a full budget of 200 units (201 branches) verifies', () => {
    const question = {
      text: '?',
      options: ['A', 'B', 'C', 'D', 'E'],
      min: 0,
      max: 5,
      costs: [120, 80, 45, 30, 200],
      budget: 200,
    };
    propertyLoop(question, 2, () => [1, 1, 0, 0, 0]); // exactly the budget
  });

  it('a whole ballot verifies, and a copy under another alias does not', () => {
    const questions = [
      YES_NO_ABSTAIN,
      { text: '?', options: ['A', 'B', 'C'], min: 0, max: 2, costs: null, budget: null },
    ];
    const made = vote.encryptBallot({
      publicKey: Y,
      fingerprint: F,
      alias: '2-1-0301',
      questions,
      selections: [
        [0, 0, 1],
        [1, 0, 1],
      ],
    });
    assert.deepEqual(vote.verifyBallot({ publicKey: Y, fingerprint: F, questions, ballot: made.ballot }), {
      ok: true,
    });
    assert.equal(made.trackingCode, vote.trackingCode(made.ballot));
    const copied = { ...made.ballot, alias: '2-1-0302' };
    const result = vote.verifyBallot({ publicKey: Y, fingerprint: F, questions, ballot: copied });
    assert.equal(result.ok || result.check, 'range');
    assert.notEqual(vote.trackingCode(copied), made.trackingCode);
    const audited = { ...made.ballot, reveal: vote.auditReveal(made.reveal) };
    assert.deepEqual(Object.keys(audited.reveal[1]).sort(), ['m', 'r']);
    assert.equal(vote.trackingCode(audited), made.trackingCode);
  });

  it('refuses to encrypt a selection the rule forbids', () => {
    const common = { publicKey: Y, fingerprint: F, alias: 'a', questionIndex: 0 };
    /** @type {[any, number[]][]} */
    const refused = [
      [YES_NO_ABSTAIN, [1, 1, 0]],
      [YES_NO_ABSTAIN, [0, 0, 0]],
      [YES_NO_ABSTAIN, [2, 0, 0]],
      [YES_NO_ABSTAIN, [1, 0]],
      [{ options: ['A', 'B'], min: 0, max: 2, costs: [150, 60], budget: 200 }, [1, 1]],
    ];
    for (const [question, selection] of refused) {
      assert.throws(
        () => vote.encryptAnswer({ ...common, question, selection }),
        (e) => e instanceof vote.BallotError && e.check === 'selection',
      );
    }
  });

  it('a cheating voter cannot slip in a choice of 2 or a second yes', () => {
    const common = {
      publicKey: Y,
      fingerprint: F,
      alias: '3-2-0101',
      questionIndex: 0,
      question: YES_NO_ABSTAIN,
    };
    // Encrypt m = 2 by hand and prove it as if it were 1: the option's proof fails.
    const { answer } = vote.encryptAnswer({ ...common, selection: [0, 1, 0] });
    const key = vote.publicKeyFromHex(Y);
    const r = vote.randomScalar();
    const two = {
      alpha: vote.pointToHex(vote.Point.BASE.multiply(r)),
      beta: vote.pointToHex(vote.Point.BASE.multiply(2n).add(key.multiply(r))),
    };
    const bad = clone(answer);
    bad.choices[1] = two;
    const cheat = vote.verifyAnswer({ ...common, answer: bad });
    assert.equal(cheat.ok || cheat.check, 'range');
    // Two yes votes, each option proof taken from a valid ballot: the overall proof fails.
    const other = vote.encryptAnswer({ ...common, selection: [1, 0, 0] }).answer;
    const both = clone(answer);
    both.choices[0] = other.choices[0];
    both.proofs[0] = other.proofs[0];
    const result = vote.verifyAnswer({ ...common, answer: both });
    assert.equal(result.ok || result.check, 'overall');
  });
});
