/**
 * ballot-page.js: the voting page (templates/ballots/vote.html).
 *
 * For every ballot it helps with the choices: a counter and the limit for "choose up to
 * k" questions, a running total for budget questions, and a plain message instead of a
 * refused form. An open ballot is a plain form that works without this file.
 *
 * For a secret ballot it does the voter's part of shared/BALLOTS.md with vote.js: loads
 * the manifest, locks (encrypts) the choices on this device, shows the tracking code,
 * then either casts the ballot or audits it (Benaloh: the ballot and its randomness go
 * on the board, are never counted, and this page checks the board's copy against the
 * voter's choices). The server never sees a choice in clear. All the words come from
 * the page (#ballot-text), translated by the server.
 */

import { auditReveal, encryptBallot, shortTrackingCode, trackingCode, verifyReveal } from './vote.js';

const form = /** @type {HTMLFormElement | null} */ (document.getElementById('ballot-form'));
const textNode = document.getElementById('ballot-text');
/** @type {Record<string, string>} */
const TEXT = textNode ? JSON.parse(textNode.textContent || '{}') : {};

/**
 * A message of the page with its {placeholders} filled in.
 * @param {string} key @param {Record<string, string | number>} [params]
 */
function say(key, params = {}) {
  return (TEXT[key] || key).replace(/\{(\w+)\}/g, (whole, name) =>
    name in params ? String(params[name]) : whole,
  );
}

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page lacks #${id}`);
  return found;
}

// ---------------------------------------------------------------- the choices

/**
 * @typedef {object} QuestionForm
 * @property {HTMLFieldSetElement} el
 * @property {number} index
 * @property {string} kind  "one", "many" or "budget"
 * @property {number} min @property {number} max @property {number | null} budget
 * @property {HTMLInputElement[]} inputs  one per option, in option order
 * @property {HTMLElement | null} counter
 */

/** @param {HTMLFormElement} where @returns {QuestionForm[]} */
function readQuestions(where) {
  return [...where.querySelectorAll('fieldset.question')].map((node) => {
    const el = /** @type {HTMLFieldSetElement} */ (node);
    const inputs = /** @type {HTMLInputElement[]} */ ([...el.querySelectorAll('input[name^="q"]')]);
    inputs.sort((a, b) => Number(a.value) - Number(b.value));
    return {
      el,
      index: Number(el.dataset.index),
      kind: el.dataset.kind || 'one',
      min: Number(el.dataset.min),
      max: Number(el.dataset.max),
      budget: el.dataset.budget === undefined ? null : Number(el.dataset.budget),
      inputs,
      counter: el.querySelector('.counter'),
    };
  });
}

/** @param {HTMLInputElement} input */
function costOf(input) {
  return Number(input.dataset.cost || 0);
}

/** @param {HTMLInputElement} input */
function labelOf(input) {
  return input.dataset.label || input.value;
}

/**
 * The counter and the limits of one question, after every change: options that would
 * break the rule are disabled (never the ones already chosen).
 * @param {QuestionForm} q
 */
function refresh(q) {
  if (q.kind === 'one') return;
  const chosen = q.inputs.filter((i) => i.checked);
  if (q.kind === 'budget' && q.budget !== null) {
    const total = chosen.reduce((sum, i) => sum + costOf(i), 0);
    const left = q.budget - total;
    for (const input of q.inputs) input.disabled = !input.checked && costOf(input) > left;
    if (q.counter) q.counter.textContent = say('countBudget', { total, budget: q.budget, left });
  } else {
    const full = chosen.length >= q.max;
    for (const input of q.inputs) input.disabled = !input.checked && full;
    if (q.counter) q.counter.textContent = say('countMany', { count: chosen.length, max: q.max });
  }
  if (q.counter) q.counter.hidden = false;
}

/**
 * The 0/1 marks of every question, or the first problem in plain words.
 * @param {QuestionForm[]} questions
 * @returns {{marks: number[][], problem: string | null}}
 */
function marksOf(questions) {
  const marks = questions.map((q) => q.inputs.map((i) => (i.checked ? 1 : 0)));
  for (const q of questions) {
    const number = q.index + 1;
    const row = marks[questions.indexOf(q)];
    const count = row.reduce((a, b) => a + b, 0);
    if (q.kind === 'budget' && q.budget !== null) {
      const total = q.inputs.reduce((sum, input, j) => sum + row[j] * costOf(input), 0);
      if (total > q.budget) return { marks, problem: say('overBudget', { number, spent: total, budget: q.budget }) };
    } else if (q.kind === 'one' && count !== 1) {
      return { marks, problem: say('chooseOne', { number }) };
    } else if (count < q.min) {
      return { marks, problem: say('atLeast', { number, min: q.min }) };
    } else if (count > q.max) {
      return { marks, problem: say('atMost', { number, max: q.max }) };
    }
  }
  return { marks, problem: null };
}

/**
 * What a row of marks means, as the option labels of the page.
 * @param {QuestionForm} q @param {unknown} row
 */
function choiceWords(q, row) {
  if (!Array.isArray(row)) return say('nothing');
  const words = q.inputs.filter((_, j) => row[j] === 1).map(labelOf);
  return words.length ? words.join('、') : say('nothing');
}

// ---------------------------------------------------------------- talking to the server

class Refusal extends Error {
  /** @param {number} status @param {string} detail */
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}
class Unreachable extends Error {}

function csrfToken() {
  for (const part of document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === 'council_csrf') return decodeURIComponent(rest.join('='));
  }
  return '';
}

/**
 * JSON from the API; a refusal carries the problem's `detail` (RFC 9457), in the
 * voter's language.
 * @param {string} url @param {object} [body]  POSTed as JSON when given
 * @returns {Promise<any>}
 */
async function api(url, body) {
  /** @type {RequestInit} */
  const init = { headers: { accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.method = 'POST';
    init.headers = { ...init.headers, 'content-type': 'application/json', 'x-csrftoken': csrfToken() };
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new Unreachable('network');
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const detail = (data && (data.detail || data.title)) || `HTTP ${response.status}`;
    throw new Refusal(response.status, String(detail));
  }
  return data;
}

// ---------------------------------------------------------------- the page

/** Lets the browser paint (the "locking…" line) before a long computation. */
function paint() {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

/** @param {HTMLElement} section */
function showStep(section) {
  for (const step of document.querySelectorAll('section.step')) {
    /** @type {HTMLElement} */ (step).hidden = step !== section;
  }
  const heading = section.querySelector('h2');
  (heading || section).scrollIntoView({ block: 'start' });
  if (heading) heading.focus();
}

/**
 * @param {HTMLFormElement} where
 * @param {QuestionForm[]} questions
 */
function plainForm(where, questions) {
  where.addEventListener('submit', (event) => {
    const { problem } = marksOf(questions);
    if (!problem) return;
    event.preventDefault();
    let box = document.getElementById('form-error');
    if (!box) {
      box = document.createElement('p');
      box.id = 'form-error';
      box.className = 'alert';
      box.setAttribute('role', 'alert');
      where.before(box);
    }
    box.textContent = problem;
    box.scrollIntoView({ block: 'center' });
  });
}

/**
 * @param {HTMLFormElement} where
 * @param {QuestionForm[]} questions
 */
async function secretForm(where, questions) {
  const ballotId = where.dataset.ballotId;
  const base = `/api/v1/ballots/${ballotId}`;
  const progress = byId('progress');
  const problemBox = byId('problem');
  const encryptButton = /** @type {HTMLButtonElement} */ (byId('encrypt'));
  const buttons = ['cast', 'audit', 'change', 'relock', 'again', 'audit-change'].map(
    (id) => /** @type {HTMLButtonElement} */ (byId(id)),
  );
  const [castButton, auditButton, changeButton, relockButton, againButton, auditChangeButton] = buttons;
  byId('needs-js').hidden = true;

  /** @param {string} message */
  const status = (message) => {
    progress.textContent = message;
  };
  /** @param {unknown} error @param {string} [key] */
  const fail = (error, key = 'refused') => {
    status('');
    problemBox.replaceChildren();
    if (error instanceof Unreachable) {
      problemBox.textContent = say('network');
    } else if (error instanceof Refusal && error.status === 401) {
      problemBox.textContent = say('loggedOut') + ' ';
      const link = document.createElement('a');
      link.href = `/login?next=${encodeURIComponent(location.pathname)}`;
      link.textContent = '→';
      problemBox.append(link);
    } else {
      const detail = error instanceof Error ? error.message : String(error);
      problemBox.textContent = say(key, { detail });
    }
    problemBox.hidden = false;
    problemBox.scrollIntoView({ block: 'center' });
  };
  const clearProblem = () => {
    problemBox.hidden = true;
    problemBox.textContent = '';
  };
  /** @param {boolean} busy */
  const busy = (busy) => {
    for (const b of [encryptButton, ...buttons]) b.disabled = busy;
  };

  status(say('loading'));
  let manifest;
  try {
    manifest = await api(`${base}/manifest`);
  } catch (error) {
    fail(error, 'loadFailed');
    return;
  }
  if (
    !Array.isArray(manifest.questions) ||
    manifest.questions.length !== questions.length ||
    manifest.questions.some(
      (/** @type {{options: unknown[]}} */ mq, /** @type {number} */ i) =>
        mq.options.length !== questions[i].inputs.length,
    )
  ) {
    fail(new Error('the page and the ballot disagree; reload the page'), 'loadFailed');
    return;
  }
  status('');
  encryptButton.hidden = false;

  /** The voter's alias and whether it is her own (not a proxy). */
  const voter = () => {
    const field = where.elements.namedItem('for_alias');
    let alias = '';
    if (field instanceof RadioNodeList) alias = field.value;
    else if (field instanceof HTMLInputElement) alias = field.value;
    const input = /** @type {HTMLInputElement | null} */ (
      [...where.querySelectorAll('input[name="for_alias"]')].find(
        (i) => /** @type {HTMLInputElement} */ (i).value === alias,
      ) || null
    );
    return { alias, own: !input || input.dataset.own !== 'false' };
  };

  /** @type {null | {alias: string, own: boolean, marks: number[][], answers: any[], reveal: any[], code: string}} */
  let locked = null;

  const lock = async () => {
    clearProblem();
    const { marks, problem } = marksOf(questions);
    if (problem) {
      fail(new Error(problem), 'lockFailed');
      return;
    }
    const { alias, own } = voter();
    busy(true);
    status(say('locking'));
    await paint();
    try {
      const made = encryptBallot({
        publicKey: manifest.public_key,
        fingerprint: manifest.fingerprint,
        alias,
        questions: manifest.questions,
        selections: marks,
      });
      locked = { alias, own, marks, answers: made.ballot.answers, reveal: made.reveal, code: made.trackingCode };
    } catch (error) {
      busy(false);
      fail(error, 'lockFailed');
      return;
    }
    busy(false);
    status('');
    const list = byId('check-choices');
    list.replaceChildren(
      ...questions.map((q, i) => {
        const item = document.createElement('li');
        const legend = q.el.querySelector('legend');
        const question = document.createElement('span');
        question.className = 'muted';
        question.textContent = legend ? legend.textContent || '' : '';
        const choice = document.createElement('strong');
        choice.textContent = choiceWords(q, marks[i]);
        item.append(question, document.createElement('br'), choice);
        return item;
      }),
    );
    byId('check-short').textContent = shortTrackingCode(locked.code);
    byId('check-code').textContent = locked.code;
    where.hidden = true;
    showStep(byId('step-check'));
  };

  const backToForm = () => {
    locked = null;
    clearProblem();
    for (const step of document.querySelectorAll('section.step')) /** @type {HTMLElement} */ (step).hidden = true;
    where.hidden = false;
    where.scrollIntoView({ block: 'start' });
    const first = where.querySelector('input:not([type=hidden])');
    if (first) /** @type {HTMLElement} */ (first).focus();
  };

  /** @param {typeof locked & {}} ballot */
  const body = (ballot, withReveal = false) => {
    /** @type {Record<string, unknown>} */
    const out = { answers: ballot.answers };
    if (withReveal) out.reveal = auditReveal(ballot.reveal);
    if (!ballot.own) out.for_alias = ballot.alias;
    return out;
  };

  const showLastBallots = async () => {
    try {
      const me = await api(`${base}/me`);
      const list = byId('last-ballots');
      list.replaceChildren(
        ...me.entries
          .filter((/** @type {any} */ e) => e.voted)
          .map((/** @type {any} */ e) => {
            const item = document.createElement('li');
            const who = e.own ? '' : `${say('byProxy', { alias: e.alias })} `;
            item.textContent = `${who}${say('voted')} `;
            if (e.tracking_code) {
              item.append(`${say('lastCode')} `);
              const code = document.createElement('strong');
              code.className = 'code';
              code.textContent = shortTrackingCode(e.tracking_code);
              item.append(code);
            }
            return item;
          }),
      );
    } catch {
      // the receipt is shown already; the list refreshes on the next visit
    }
  };

  const cast = async () => {
    if (!locked) return;
    clearProblem();
    busy(true);
    status(say('casting'));
    let receipt;
    try {
      receipt = await api(`${base}/ballots`, body(locked));
    } catch (error) {
      busy(false);
      fail(error);
      return;
    }
    busy(false);
    status('');
    byId('receipt-short').textContent = receipt.short_code;
    byId('receipt-code').textContent = receipt.tracking_code;
    byId('receipt-head').textContent = receipt.head;
    byId('receipt-seq').textContent = say('entry', { seq: receipt.seq });
    byId('receipt-warning').hidden = receipt.tracking_code === locked.code;
    const link = /** @type {HTMLAnchorElement} */ (byId('receipt-link'));
    link.href = `/ballots/${ballotId}/board?code=${encodeURIComponent(receipt.short_code)}`;
    locked = null;
    showStep(byId('step-receipt'));
    await showLastBallots();
  };

  const audit = async () => {
    if (!locked) return;
    const mine = locked;
    clearProblem();
    busy(true);
    status(say('auditing'));
    let receipt;
    let entry;
    try {
      receipt = await api(`${base}/audited`, body(mine, true));
      const page = await api(`${base}/board?offset=${receipt.seq}&limit=1`);
      entry = page.entries[0];
    } catch (error) {
      busy(false);
      fail(error);
      return;
    }
    busy(false);
    status('');
    locked = null;
    // The check runs on the board's copy: the ciphertexts published, opened with the
    // randomness published, must give the voter's own choices.
    const payload = entry && entry.seq === receipt.seq && entry.kind === 'audited' ? entry.payload : null;
    let honest =
      payload !== null &&
      payload.alias === mine.alias &&
      trackingCode(payload) === mine.code &&
      Array.isArray(payload.answers) &&
      Array.isArray(payload.reveal);
    const rows = questions.map((q, i) => {
      const reveal = honest ? payload.reveal[i] : null;
      const opens =
        honest &&
        verifyReveal({
          publicKey: manifest.public_key,
          questionIndex: i,
          answer: payload.answers[i],
          reveal,
        }).ok;
      const same = opens && JSON.stringify(reveal.m) === JSON.stringify(mine.marks[i]);
      honest = honest && same;
      const row = document.createElement('tr');
      const legend = q.el.querySelector('legend');
      const cells = [
        legend ? legend.textContent || '' : String(i + 1),
        choiceWords(q, mine.marks[i]),
        `${same ? '✓' : '✗'} ${reveal ? choiceWords(q, reveal.m) : '—'}`,
      ];
      const labels = [...document.querySelectorAll('table.audit thead th')].map((th) => th.textContent || '');
      for (const [k, value] of cells.entries()) {
        const cell = document.createElement('td');
        cell.textContent = value;
        cell.dataset.label = labels[k] || '';
        row.append(cell);
      }
      return row;
    });
    byId('audit-rows').replaceChildren(...rows);
    const verdict = byId('audit-verdict');
    verdict.textContent = say(honest ? 'auditOk' : 'auditBad');
    verdict.className = honest ? 'notice' : 'alert';
    byId('audit-seq').textContent = String(receipt.seq);
    byId('audit-short').textContent = receipt.short_code;
    showStep(byId('step-audit'));
  };

  where.addEventListener('submit', (event) => {
    event.preventDefault();
    lock();
  });
  castButton.addEventListener('click', cast);
  auditButton.addEventListener('click', audit);
  changeButton.addEventListener('click', backToForm);
  againButton.addEventListener('click', backToForm);
  auditChangeButton.addEventListener('click', backToForm);
  relockButton.addEventListener('click', lock);
}

if (form) {
  const questions = readQuestions(form);
  for (const q of questions) {
    for (const input of q.inputs) input.addEventListener('change', () => refresh(q));
    refresh(q);
  }
  if (form.dataset.secrecy === 'secret') secretForm(form, questions);
  else plainForm(form, questions);
}
