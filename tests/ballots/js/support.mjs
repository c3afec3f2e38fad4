// Shared by the JavaScript ballot tests and scripts: where the vectors are, the vector
// generator's replayable stand-in for randomness, stdin (not a test file: node --test skips it).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { vote } from './load.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(HERE, '..', '..', '..');
export const SHARED_VECTORS = join(REPO_ROOT, '..', 'shared', 'ballot-vectors.json');
export const LOCAL_VECTORS = join(REPO_ROOT, 'tests', 'ballots', 'ballot-vectors.json');

/** ../shared/ballot-vectors.json beside the repository when it exists, else the copy in tests/ballots. */
export function vectorsPath() {
  return existsSync(SHARED_VECTORS) ? SHARED_VECTORS : LOCAL_VECTORS;
}

/** @returns {any} the known-answer vectors */
export function loadVectors() {
  return JSON.parse(readFileSync(vectorsPath(), 'utf-8'));
}

// The generator's n-th "random" scalar is n·⌊2^64/φ⌋ + 12346 (see tests/ballots/support.py);
// the ballot vector draws numbers 1009 to 1021.
const GOLDEN = 0x9e3779b97f4a7c15n;

/** @param {number} start @returns {() => bigint} draws start, start + 1, … */
export function vectorDraw(start) {
  let n = BigInt(start);
  return () => vote.mod(n++ * GOLDEN + 12346n);
}

/** @returns {Promise<string>} all of stdin, as UTF-8 (for the scripts beside this file) */
export async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf-8');
}
