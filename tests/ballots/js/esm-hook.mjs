// A module-loading hook for node (registered by load.mjs). council/static/js/**/*.js are ES
// modules for the browser, which node before 20.19 reads as CommonJS (no package.json with
// "type": "module" lies above them). Not a test file.

/**
 * @param {string} url
 * @param {{format?: string}} context
 * @param {(url: string, context: object) => Promise<object>} nextLoad
 */
export async function load(url, context, nextLoad) {
  if (/\/council\/static\/js\/.+\.js$/.test(url)) return nextLoad(url, { ...context, format: 'module' });
  return nextLoad(url, context);
}
