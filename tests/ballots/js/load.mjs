// vote.js and the vendored noble bundle, loaded for node (the tests and the scripts here
// import them from this file, not directly). Not a test file.
//
// The browser loads both as ES modules with WebCrypto at hand. Debian 12's nodejs is 18.20,
// which lacks both: a `.js` file outside a "type": "module" package is CommonJS to it (node
// 20.19 and later detect ES module syntax), and scripts have no global `crypto` (node 19 and
// later do). Both are made good here, for node only.

import { webcrypto } from 'node:crypto';
import * as nodeModule from 'node:module';

if (globalThis.crypto === undefined) {
  Object.defineProperty(globalThis, 'crypto', { value: webcrypto, configurable: true });
}
if (typeof nodeModule.register === 'function') {
  nodeModule.register('./esm-hook.mjs', import.meta.url);
}

/** The vendored bundle: { ristretto255, sha256, sha512 }. */
export const noble = await import('../../../council/static/vendor/noble-curves-2.4.0.mjs');
/** council/static/js/vote.js */
export const vote = await import('../../../council/static/js/vote.js');
