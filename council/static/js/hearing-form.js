/**
 * hearing-form.js: the schedule-a-hearing form (templates/hearings/new.html) offers only the
 * hosts, secretaries and matters of the chosen place. The form works without this file;
 * the server checks every choice again.
 */

const scope = /** @type {HTMLSelectElement | null} */ (document.getElementById('scope_id'));

/** @param {string} paths @param {string} path */
const covering = (paths, path) => paths.split(' ').some((p) => p && path.startsWith(p));

function filter() {
  if (!scope) return;
  const path = scope.selectedOptions[0]?.dataset.path || '';
  for (const node of document.querySelectorAll('option[data-paths]')) {
    const option = /** @type {HTMLOptionElement} */ (node);
    option.hidden = !covering(option.dataset.paths || '', path);
  }
  for (const node of document.querySelectorAll('option[data-path]')) {
    const option = /** @type {HTMLOptionElement} */ (node);
    if (option.parentElement !== scope) option.hidden = !(option.dataset.path || '').startsWith(path);
  }
}

scope?.addEventListener('change', filter);
filter();
document.getElementById('form-error')?.focus();
