#!/usr/bin/env node
// Check a ballot with vote.js, for tests/ballots/test_js.py (and by hand). Reads JSON on stdin:
//   {"public_key", "fingerprint", "questions": [...], "ballot": {"alias", "answers": [...]},
//    "reveal": [{m, r}, ...] (optional: an audited ballot's)}
// Prints {"ok": true, "tracking_code"} and exits 0, or {"ok": false, "check", "reason"} and exits 1.

import { vote } from './load.mjs';
import { readStdin } from './support.mjs';

const { trackingCode, verifyBallot, verifyReveal } = vote;

const input = JSON.parse(await readStdin());
const { public_key: publicKey, fingerprint, questions, ballot, reveal } = input;
let result = verifyBallot({ publicKey, fingerprint, questions, ballot });
if (result.ok && reveal !== undefined) {
  for (const [questionIndex, answer] of ballot.answers.entries()) {
    result = verifyReveal({ publicKey, questionIndex, answer, reveal: reveal[questionIndex] });
    if (!result.ok) break;
  }
}
const out = result.ok ? { ok: true, tracking_code: trackingCode(ballot) } : result;
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exitCode = result.ok ? 0 : 1;
