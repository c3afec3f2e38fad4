/**
 * hearing-live.js: keeps a hearing's live page (templates/hearings/live.html) and the host's
 * console (templates/hearings/console.html) up to date without reloading.
 *
 * Both pages are complete without this file. It follows the hearing's Server-Sent Events
 * (/api/v1/hearings/{id}/events): every "state" event is the whole live state with its
 * version, and the page is re-rendered from it. After a connection error, a reconnect, a
 * skipped version or the phone waking up, it fetches the state afresh from
 * /api/v1/hearings/{id}/live: the queue, the timer and the attendance live in the database.
 *
 * The speaker's countdown is the speaker's deadline minus the server's clock, which is
 * the phone's clock corrected by the offset seen in the last state's `server_time`.
 *
 * The page marks what to show with data-when="running !item" (every flag set, "!" unset);
 * council/hearings/page_view.py computes the same flags for the server's rendering. Forms
 * marked data-fetch are sent with fetch(): to their data-api (JSON API) or to their own
 * page route with `x-council-fetch: 1`, which answers JSON instead of a redirect.
 */

const dataNode = document.getElementById('hearing-data');
const root = /** @type {HTMLElement | null} */ (document.querySelector('[data-hearing]'));

/**
 * @typedef {object} Speaker
 * @property {number} id @property {string} name @property {string} via
 * @property {string | null} deadline @property {number} seconds
 * @property {number | null} resident @property {number | null} user
 * @typedef {object} Item
 * @property {number} id @property {number} position @property {string} title
 * @property {number | null} proposal @property {number} minutes_budget @property {string} status
 * @property {string | null} opened_at @property {string | null} outcome @property {string} outcome_text
 * @property {number | null} ballot
 * @typedef {object} State
 * @property {number} id @property {number} version @property {string} server_time
 * @property {string} status @property {boolean} online @property {number | null} current_item
 * @property {Item[]} items @property {Speaker | null} speaking @property {any[]} queue
 * @property {any} attendance
 */

if (dataNode && root) {
  start(JSON.parse(dataNode.textContent || '{}'));
}

/** @param {{id: number, page: string, state: State, me: any, words: any, zone: string}} data */
function start(data) {
  const hearingId = data.id;
  const words = data.words;
  const me = data.me || {};
  const isConsole = data.page === 'console';
  /** @type {State} */
  let state = data.state;
  let offset = clockOffset(state);
  let lastCounts = JSON.stringify(state.attendance);
  /** @type {EventSource | null} */
  let source = null;
  let retry = 1000;

  const timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || 'zh-Hans', {
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
    timeZone: data.zone,
  });

  /** @param {string} text @param {Record<string, string | number>} params */
  function say(text, params) {
    return String(text).replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
  }

  /** @param {State} s */
  function clockOffset(s) {
    const server = Date.parse(s.server_time);
    return Number.isNaN(server) ? 0 : server - Date.now();
  }

  /** @param {any} entry */
  function isMine(entry) {
    if (!entry || !me.id) return false;
    if (me.resident !== null && me.resident !== undefined) return entry.resident === me.resident;
    return entry.user === me.id && entry.resident === null;
  }

  /** The same flags as page_view.state_flags. @param {State} s */
  function flags(s) {
    const out = new Set([s.status]);
    if (s.current_item !== null) {
      out.add('item');
      const current = s.items.find((i) => i.id === s.current_item);
      if (current && current.proposal) out.add('current-matter');
    }
    if (s.speaking) out.add('speaking');
    if (s.queue.length) out.add('queue');
    if (s.online) out.add('online');
    if (s.attendance.quorum_met) out.add('quorum');
    if (s.attendance.quorum_permille) out.add('rule');
    for (const key of ['logged_in', 'invited', 'present', 'host']) if (me[key]) out.add(key);
    if (s.queue.some(isMine)) out.add('waiting');
    if (isMine(s.speaking)) out.add('me-speaking');
    return out;
  }

  /** @param {Set<string>} have @param {string} expr */
  function shows(have, expr) {
    return expr
      .split(/\s+/)
      .filter(Boolean)
      .every((word) => (word.startsWith('!') ? !have.has(word.slice(1)) : have.has(word)));
  }

  /** @param {Element} scope @param {Set<string>} have @param {boolean} rows  inside rows too */
  function applyWhen(scope, have, rows) {
    for (const el of scope.querySelectorAll('[data-when]')) {
      if (!rows && el.closest('[data-row]')) continue;
      if (el.closest('template')) continue;
      /** @type {HTMLElement} */ (el).hidden = !shows(have, el.getAttribute('data-when') || '');
    }
  }

  /** @param {string} name @param {string} text */
  function setText(name, text) {
    for (const el of document.querySelectorAll(`[data-live="${name}"]`)) {
      if (el.textContent !== text) el.textContent = text;
    }
  }

  /**
   * Re-renders a list from its <template>: one row per value, with the row's flags.
   * @param {string} name @param {Array<{values: Record<string, any>, flags: string[]}>} rows
   * @param {Set<string>} have
   */
  function renderList(name, rows, have) {
    for (const list of document.querySelectorAll(`[data-list="${name}"]`)) {
      const template = /** @type {HTMLTemplateElement | null} */ (
        document.getElementById(list.getAttribute('data-template') || '')
      );
      if (!template) continue;
      // Rows that did not change stay the same elements, so a button the host is pressing
      // is not swapped out under her finger when someone else's change arrives.
      const global = [...have].sort().join(' ');
      /** @type {Map<string, Element>} */
      const unchanged = new Map();
      for (const child of list.children) {
        const sig = /** @type {HTMLElement} */ (child).dataset.sig;
        if (sig && !unchanged.has(sig)) unchanged.set(sig, child);
      }
      let cursor = list.firstElementChild;
      for (const { values, flags: rowFlags } of rows) {
        const sig = JSON.stringify([values, rowFlags, global]);
        let node = unchanged.get(sig);
        if (node) unchanged.delete(sig);
        else node = buildRow(template, values, rowFlags, have, sig);
        if (node === cursor) {
          cursor = cursor.nextElementSibling;
          continue;
        }
        list.insertBefore(node, cursor);
      }
      while (cursor) {
        const next = cursor.nextElementSibling;
        cursor.remove();
        cursor = next;
      }
    }
  }

  /**
   * One row from its <template>, filled in.
   * @param {HTMLTemplateElement} template @param {Record<string, any>} values
   * @param {string[]} rowFlags @param {Set<string>} have @param {string} sig
   */
  function buildRow(template, values, rowFlags, have, sig) {
    const row = /** @type {HTMLElement} */ (template.content.firstElementChild?.cloneNode(true));
    for (const el of row.querySelectorAll('[data-slot]')) {
      const key = el.getAttribute('data-slot') || '';
      el.textContent = key in values ? String(values[key] ?? '') : '';
    }
    for (const el of row.querySelectorAll('[data-value]')) {
      /** @type {HTMLInputElement} */ (el).value = String(values[el.getAttribute('data-value') || ''] ?? '');
    }
    for (const el of row.querySelectorAll('[data-href]')) {
      el.setAttribute('href', say(el.getAttribute('data-href') || '', values));
    }
    row.className = [...rowFlags].sort().map((f) => `is-${f}`).join(' ');
    row.dataset.sig = sig;
    applyWhen(row, new Set([...have, ...rowFlags]), true);
    return row;
  }

  /** @param {any} counts */
  function quorumText(counts) {
    const base = counts.basis === 'members' ? words.members_present : words.households_present;
    const text = say(base, { present: counts.present, invited: counts.invited });
    if (!counts.quorum_permille) return `${text} · ${words.no_quorum}`;
    const met = counts.quorum_met ? words.quorum_met : words.quorum_not_met;
    return `${text} · ${say(words.needed, { needed: counts.needed })} · ${met}`;
  }

  /** @param {Item} item @param {State} s */
  function itemFlags(item, s) {
    const out = [`item-${item.status}`];
    if (item.id === s.current_item) out.push('current');
    if (item.outcome) out.push(`outcome-${item.outcome}`);
    if (item.proposal) out.push('matter');
    return out;
  }

  /** @param {Item} item */
  function outcomeText(item) {
    if (!item.outcome) return '';
    const term = words.outcome[item.outcome] || item.outcome;
    return item.outcome_text ? `${term}: ${item.outcome_text}` : term;
  }

  /** @param {State} s */
  function render(s) {
    const have = flags(s);
    applyWhen(document.body, have, false);
    setText('status', words.status[s.status] || s.status);
    for (const el of document.querySelectorAll('[data-live="status"]')) el.className = `tag status-${s.status}`;
    const current = s.items.find((i) => i.id === s.current_item) || null;
    setText('item-title', current ? current.title : words.no_item);
    setText('speaker-name', s.speaking ? s.speaking.name : '');
    const position = s.queue.findIndex(isMine);
    setText('position', position >= 0 ? say(words.position, { n: position + 1 }) : '');
    setText('quorum-text', quorumText(s.attendance));
    const met = s.attendance.quorum_met || !s.attendance.quorum_permille;
    setText('quorum-mark', met ? '✔' : '…');
    for (const el of document.querySelectorAll('[data-live="quorum"]')) {
      el.classList.toggle('met', met);
      el.classList.toggle('unmet', !met);
    }
    for (const el of document.querySelectorAll('[data-live-value="current_item"]')) {
      /** @type {HTMLInputElement} */ (el).value = s.current_item === null ? '' : String(s.current_item);
    }
    renderList(
      'queue',
      s.queue.map((q, k) => ({
        values: { id: q.id, number: k + 1, name: q.name, via: words.via[q.via] || q.via },
        flags: isMine(q) ? ['mine'] : [],
      })),
      have,
    );
    renderList(
      'agenda',
      s.items.map((item, k) => ({
        values: {
          id: item.id,
          number: k + 1,
          title: item.title,
          minutes: say(words.minutes, { n: item.minutes_budget }),
          status: words.item_status[item.status] || item.status,
          outcome: outcomeText(item),
          ballot: item.ballot ?? '',
        },
        flags: itemFlags(item, s),
      })),
      have,
    );
    tick();
  }

  /** The countdown and the open item's time, every quarter second. */
  function tick() {
    const now = Date.now() + offset;
    const speaking = state.speaking;
    for (const el of document.querySelectorAll('[data-countdown]')) {
      if (!speaking || !speaking.deadline) {
        el.textContent = '';
        continue;
      }
      const left = (Date.parse(speaking.deadline) - now) / 1000;
      const whole = Math.ceil(left);
      const size = Math.abs(whole);
      const text = `${Math.floor(size / 60)}:${String(size % 60).padStart(2, '0')}`;
      const shown = whole >= 0 ? text : `−${text}`;
      if (el.textContent !== shown) el.textContent = shown;
      el.classList.toggle('over', whole < 0);
    }
    for (const el of document.querySelectorAll('[data-time-left]')) {
      const bar = /** @type {HTMLProgressElement} */ (el);
      if (!speaking || !speaking.deadline) continue;
      bar.max = speaking.seconds;
      bar.value = Math.max(0, (Date.parse(speaking.deadline) - now) / 1000);
    }
    const current = state.items.find((i) => i.id === state.current_item);
    if (current && current.opened_at) {
      const used = Math.floor((now - Date.parse(current.opened_at)) / 60000);
      setText('item-elapsed', say(words.elapsed, { used: Math.max(0, used), budget: current.minutes_budget }));
    } else {
      setText('item-elapsed', '');
    }
  }

  /** @param {State} next */
  function accept(next) {
    if (!next || typeof next.version !== 'number') return;
    if (next.version < state.version) return; // an older state arriving late
    const skipped = next.version > state.version + 1;
    state = next;
    offset = clockOffset(next);
    render(next);
    const counts = JSON.stringify(next.attendance);
    if (isConsole && counts !== lastCounts) refreshAttendees();
    // Only a change that can be hers: someone came while she is not checked in, or someone
    // left while she is. A room of phones then asks once per arrival, not for every change.
    const before = JSON.parse(lastCounts).people;
    const now = next.attendance.people;
    if (me.invited && (me.present ? now < before : now > before)) refreshMe();
    lastCounts = counts;
    if (skipped) resync();
  }

  /** A JSON document of this site, never from a cache; null when offline or refused. @param {string} url */
  async function getJson(url) {
    try {
      const response = await fetch(url, {
        headers: { accept: 'application/json' },
        credentials: 'same-origin',
        cache: 'no-store',
      });
      return response.ok ? await response.json() : null;
    } catch {
      return null;
    }
  }

  let resyncing = false;
  async function resync() {
    if (resyncing) return;
    resyncing = true;
    // offline: the event stream's reconnection tries again
    const fresh = await getJson(`/api/v1/hearings/${hearingId}/live`);
    resyncing = false;
    if (fresh && fresh.version >= state.version) {
      state = fresh;
      offset = clockOffset(fresh);
      render(fresh);
      if (isConsole) refreshAttendees();
    }
  }

  function connected(yes) {
    for (const el of document.querySelectorAll('[data-live="connection"]')) {
      /** @type {HTMLElement} */ (el).hidden = yes;
      el.textContent = yes ? '' : words.offline;
    }
  }

  function connect() {
    source = new EventSource(`/api/v1/hearings/${hearingId}/events`);
    source.addEventListener('state', (event) => {
      retry = 1000;
      connected(true);
      accept(JSON.parse(/** @type {MessageEvent} */ (event).data));
    });
    source.addEventListener('open', () => {
      connected(true);
      resync();
    });
    source.addEventListener('error', () => {
      connected(false);
      if (source && source.readyState === EventSource.CLOSED) {
        // The browser gave up (the server answered an error): try again ourselves.
        source.close();
        source = null;
        setTimeout(connect, retry);
        retry = Math.min(retry * 2, 30000);
      }
    });
  }

  // ------------------------------------------------------------- forms without reloading

  function csrfToken() {
    for (const part of document.cookie.split(';')) {
      const [key, ...rest] = part.trim().split('=');
      if (key === 'council_csrf') return decodeURIComponent(rest.join('='));
    }
    const field = /** @type {HTMLInputElement | null} */ (document.querySelector('input[name=_csrf_token]'));
    return field ? field.value : '';
  }

  /** @param {string} text @param {boolean} [problem] @param {string} [link] */
  function message(text, problem = false, link = '') {
    for (const el of document.querySelectorAll('[data-live="message"]')) {
      const box = /** @type {HTMLElement} */ (el);
      box.className = problem ? 'alert' : 'notice';
      box.replaceChildren(document.createTextNode(text));
      if (link) {
        const a = document.createElement('a');
        a.href = link;
        a.textContent = words.open_ballot;
        box.append(' ', a);
      }
      box.hidden = false;
      if (problem) box.focus?.();
    }
  }

  /** @param {HTMLFormElement} form @param {SubmitEvent} event */
  async function send(form, event) {
    const confirmText = form.getAttribute('data-confirm');
    if (confirmText && !window.confirm(confirmText)) return;
    const api = form.getAttribute('data-api');
    const headers = { accept: 'application/json', 'x-csrftoken': csrfToken() };
    /** @type {RequestInit} */
    const init = { method: 'POST', credentials: 'same-origin', headers };
    if (api) {
      init.headers = { ...headers, 'content-type': 'application/json' };
      init.body = '{}';
    } else {
      init.headers = { ...headers, 'x-council-fetch': '1' };
      const body = new FormData(form);
      const submitter = /** @type {HTMLButtonElement | null} */ (event.submitter);
      if (submitter && submitter.name) body.append(submitter.name, submitter.value);
      init.body = body;
    }
    const buttons = /** @type {HTMLButtonElement[]} */ ([...form.querySelectorAll('button')]);
    for (const b of buttons) b.disabled = true;
    try {
      const response = await fetch(api || form.action, init);
      let reply = null;
      try {
        reply = await response.json();
      } catch {
        reply = null;
      }
      if (!response.ok) {
        const detail = (reply && (reply.detail || reply.title)) || `HTTP ${response.status}`;
        message(say(words.failed, { detail }), true);
        return;
      }
      for (const el of document.querySelectorAll('[data-live="message"]')) /** @type {HTMLElement} */ (el).hidden = true;
      if (reply && reply.ballot_id) message(words.ballot_made, false, `/ballots/${reply.ballot_id}`);
      if (form.hasAttribute('data-reset')) form.reset();
      if (form.getAttribute('data-done') === 'present') {
        const tag = document.createElement('span');
        tag.className = 'tag';
        tag.textContent = words.done;
        form.replaceWith(tag);
      }
      await resync();
      if (isConsole) refreshAttendees();
    } catch {
      message(words.network, true);
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  }

  document.addEventListener('submit', (event) => {
    const form = /** @type {HTMLFormElement} */ (event.target);
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-fetch')) return;
    event.preventDefault();
    send(form, /** @type {SubmitEvent} */ (event));
  });

  /**
   * The live state says how many are present, not who: when the count moves her way, ask whether
   * this viewer is among them (the host may have marked her present, or her leaving). The
   * asks are spread over a second and a half, so a room of phones does not ask at once.
   */
  let meTimer = 0;
  function refreshMe() {
    if (meTimer) return;
    meTimer = window.setTimeout(async () => {
      const fresh = await getJson(`/api/v1/hearings/${hearingId}/me`); // null offline: the next change asks again
      meTimer = 0;
      if (fresh && Boolean(fresh.present) !== Boolean(me.present)) {
        me.present = Boolean(fresh.present);
        render(state);
      }
    }, Math.random() * 1500);
  }

  // ------------------------------------------------------------- the console's extras

  /** Who came, with arrival times: not in the live state, so read from the API. */
  async function refreshAttendees() {
    if (!document.querySelector('[data-list="attendees"]')) return;
    const reply = await getJson(`/hearings/${hearingId}/console/attendees`);
    if (!reply) return;
    /** @param {string | null} value */
    const time = (value) => (value ? timeFormat.format(new Date(value)) : '');
    const people = reply.items || [];
    setText('people', String(people.length));
    renderList(
      'attendees',
      people.map((a) => ({
        values: {
          id: a.id,
          name: a.name,
          place: a.place || '',
          via: words.via[a.via] || a.via,
          arrived: time(a.arrived_at),
          left: time(a.left_at),
        },
        flags: [...(a.late ? ['late'] : []), ...(a.left_at ? ['left'] : [])],
      })),
      flags(state),
    );
    for (const select of document.querySelectorAll('select[data-options="present-residents"]')) {
      const chosen = /** @type {HTMLSelectElement} */ (select).value;
      const first = select.querySelector('option[value=""]');
      const options = people
        .filter((a) => !a.left_at && a.resident)
        .map((a) => {
          const option = document.createElement('option');
          option.value = String(a.resident);
          option.textContent = a.place ? `${a.name} · ${a.place}` : a.name;
          return option;
        });
      select.replaceChildren(...(first ? [first] : []), ...options);
      /** @type {HTMLSelectElement} */ (select).value = chosen;
    }
  }

  /** The check-in QR code renews itself: a new code from the API, its image from the page route. */
  function renewQr() {
    const box = document.querySelector('[data-qr]');
    if (!box) return;
    let wait = Number(box.getAttribute('data-renews-in') || '60');
    let nextAt = Date.now() + wait * 1000;
    const countdown = () => {
      const left = Math.max(0, Math.round((nextAt - Date.now()) / 1000));
      setText('qr-renews', say(words.renews, { n: left }));
    };
    const renew = async () => {
      try {
        const response = await fetch(`/api/v1/hearings/${hearingId}/check-in-code`, {
          headers: { accept: 'application/json' },
          credentials: 'same-origin',
          cache: 'no-store',
        });
        if (response.ok) {
          const code = await response.json();
          const img = document.createElement('img');
          img.src = `/hearings/${hearingId}/console/qr.svg?code=${encodeURIComponent(code.code)}`;
          img.alt = code.url;
          img.width = 320;
          img.height = 320;
          await img.decode().catch(() => undefined);
          box.replaceChildren(img);
          for (const a of document.querySelectorAll('[data-live="qr-url"]')) {
            a.setAttribute('href', code.url);
            a.textContent = code.url;
          }
          wait = Number(code.renews_in) || 60;
        } else {
          wait = 10;
        }
      } catch {
        wait = 10;
      }
      nextAt = Date.now() + wait * 1000;
      countdown();
      setTimeout(renew, wait * 1000);
    };
    setTimeout(renew, wait * 1000);
    setInterval(countdown, 1000);
    countdown();
  }

  /** The outcome form shows only the fields of the chosen outcome. */
  function outcomeFields() {
    for (const form of document.querySelectorAll('form.close-item')) {
      const update = () => {
        const chosen = /** @type {HTMLInputElement | null} */ (form.querySelector('input[name=outcome]:checked'));
        for (const part of form.querySelectorAll('[data-outcome-for]')) {
          const el = /** @type {HTMLElement} */ (part);
          el.classList.toggle('unchosen', !chosen || el.getAttribute('data-outcome-for') !== chosen.value);
        }
      };
      form.addEventListener('change', update);
      form.addEventListener('reset', () => setTimeout(update, 0));
      update();
    }
  }

  render(state);
  setInterval(tick, 250);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') resync();
  });
  if (isConsole) {
    renewQr();
    outcomeFields();
  }
  connect();
}
