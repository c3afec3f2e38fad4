#!/usr/bin/env node
// Make a ballot with vote.js and print it as JSON, for tests/ballots/test_js.py (and by hand).
//
//   node tests/ballots/js/make_ballot.mjs --public-key Y --fingerprint F --alias 1-3-0502 \
//        --question '{"options":["赞成","反对","弃权"],"min":1,"max":1}' --choices 0,1,0 [--question-index 0]
//   echo '{"public_key": Y, "fingerprint": F, "alias": A, "questions": [...], "selections": [[...], ...]}' \
//        | node tests/ballots/js/make_ballot.mjs
//
// On stdin, "question" + "choices" (+ "question_index") may stand for one question. Prints
// {"alias", "answers": [...], "reveal": [{m, r}, ...], "tracking_code"}: the board's ballot
// payload (without cast_at), what an audit would reveal, and the tracking code. With a
// single question at index q > 0, "answers" holds that one answer (proved for index q) and
// the tracking code is over it alone.

import { parseArgs } from 'node:util';

import { vote } from './load.mjs';
import { readStdin } from './support.mjs';

const { encryptAnswer, trackingCode } = vote;

/** @returns {Promise<any>} the request, from argv when given, else from stdin */
async function request() {
  const { values } = parseArgs({
    options: {
      'public-key': { type: 'string' },
      fingerprint: { type: 'string' },
      alias: { type: 'string' },
      question: { type: 'string' },
      choices: { type: 'string' },
      'question-index': { type: 'string', default: '0' },
    },
  });
  if (values['public-key'] === undefined) return JSON.parse(await readStdin());
  const choices = values.choices ?? '';
  return {
    public_key: values['public-key'],
    fingerprint: values.fingerprint,
    alias: values.alias,
    question: JSON.parse(values.question ?? 'null'),
    choices: choices.trim().startsWith('[') ? JSON.parse(choices) : choices.split(',').map(Number),
    question_index: Number(values['question-index']),
  };
}

const input = await request();
const single = input.questions === undefined;
const questions = single ? [input.question] : input.questions;
const selections = single ? [input.choices] : input.selections;
const first = single ? (input.question_index ?? 0) : 0;
const made = questions.map((question, q) =>
  encryptAnswer({
    publicKey: input.public_key,
    fingerprint: input.fingerprint,
    alias: input.alias,
    questionIndex: first + q,
    question,
    selection: selections[q],
  }),
);
const answers = made.map((x) => x.answer);
process.stdout.write(
  `${JSON.stringify({
    alias: input.alias,
    answers,
    reveal: made.map((x) => x.reveal),
    tracking_code: trackingCode({ alias: input.alias, answers }),
  })}\n`,
);
