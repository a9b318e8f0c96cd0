/* Karta — progressive enhancements for the server-rendered UI.
 * Loaded with `defer` under CSP `script-src 'self'`: no eval, no inline
 * handlers, no innerHTML with data. Every page works without this file. */
(function () {
  'use strict';

  const lang = document.documentElement.lang || '';
  const ru = lang === 'ru';
  const T = ru
    ? { sure: 'Вы уверены?', selectFirst: 'Сначала выберите записи' }
    : { sure: 'Are you sure?', selectFirst: 'Select records first' };

  /* The browser's time zone (its IANA name), for server-rendered local days (My day, the
     calendar) when the user has not chosen one in their settings; the offset too, for an
     engine without Intl time zones. */
  try {
    const tz = -new Date().getTimezoneOffset();
    document.cookie = 'karta_tz=' + tz + '; path=/; max-age=31536000; samesite=lax';
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && /^[A-Za-z0-9_+\-\/]+$/.test(zone)) {
      document.cookie = 'karta_zone=' + zone + '; path=/; max-age=31536000; samesite=lax';
    }
  } catch (e) { /* cookies off: the tenant's zone decides */ }

  const isField = (el) =>
    !!el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

  /* ---------- 1. Typeahead: the header search box, and link fields in forms ----------
   * The header box opens the record chosen; a link field (`data-pick`) takes its name. */
  function initTypeahead(input, list) {
    if (!input || !list || !input.dataset.suggest || !window.fetch) return;
    const pick = !!input.dataset.pick;

    let timer = 0;       // debounce timer
    let blurTimer = 0;   // delayed close so clicks on items still land
    let seq = 0;         // request counter: only the latest response is rendered
    let ctrl = null;     // AbortController of the request in flight
    let active = -1;     // highlighted item index, -1 = none
    let shownFor = '';   // query the current list belongs to

    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-controls', list.id);
    input.setAttribute('aria-expanded', 'false');
    if (input.hasAttribute('aria-label')) list.setAttribute('aria-label', input.getAttribute('aria-label'));

    function highlight(i, scroll) {
      const items = list.children;
      active = i;
      for (let k = 0; k < items.length; k++) {
        const on = k === i;
        items[k].classList.toggle('active', on);
        items[k].setAttribute('aria-selected', on ? 'true' : 'false');
      }
      if (i >= 0 && items[i]) {
        input.setAttribute('aria-activedescendant', items[i].id);
        if (scroll) items[i].scrollIntoView({ block: 'nearest' });
      } else {
        input.removeAttribute('aria-activedescendant');
      }
    }
    function open() {
      if (!list.children.length) { close(); return; }
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
    }
    function close() {
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      highlight(-1);
    }
    function cancel() {  // forget pending/in-flight lookups
      clearTimeout(timer);
      seq++;
      if (ctrl) ctrl.abort();
      ctrl = null;
    }

    function render(rows, q) {
      list.textContent = '';
      rows.forEach((r, i) => {
        // Only same-site paths: never let data turn into a javascript: or off-site link.
        if (!r || typeof r.url !== 'string' || r.url[0] !== '/' || r.url[1] === '/') return;
        const li = document.createElement('li');
        li.id = list.id + '-opt-' + i;
        li.dataset.name = String(r.name || '');
        li.setAttribute('role', 'option');
        li.setAttribute('aria-selected', 'false');
        const a = document.createElement('a');
        a.href = r.url;
        a.tabIndex = -1;  // focus stays in the combobox; arrows move the highlight
        const name = document.createElement('strong');
        name.textContent = String(r.name || '');
        const what = document.createElement('span');
        what.className = 'what';
        what.textContent = String(r.what || '');
        const detail = document.createElement('span');
        detail.className = 'detail';
        detail.textContent = String(r.detail || '');
        a.append(name, ' ', what, ' ', detail);
        li.appendChild(a);
        list.appendChild(li);
      });
      shownFor = q;
      active = -1;
      if (list.children.length && document.activeElement === input) open(); else close();
    }

    async function load(q) {
      const my = ++seq;
      if (ctrl) ctrl.abort();
      ctrl = window.AbortController ? new AbortController() : null;
      const base = input.dataset.suggest;
      const url = base + (base.indexOf('?') < 0 ? '?' : '&') + 'q=' + encodeURIComponent(q);
      try {
        const res = await fetch(url, {
          method: 'GET',
          credentials: 'same-origin',
          headers: { Accept: 'application/json' },
          signal: ctrl ? ctrl.signal : undefined,
        });
        if (my !== seq) return;
        // An expired session redirects to the HTML sign-in page: treat as "no suggestions".
        const type = res.headers.get('content-type') || '';
        const rows = res.ok && type.indexOf('json') >= 0 ? await res.json() : [];
        if (my !== seq) return;
        render(Array.isArray(rows) ? rows : [], q);
      } catch (err) {
        if (my === seq) render([], q);  // network error; aborted requests have my !== seq
      }
    }

    input.addEventListener('input', () => {
      clearTimeout(timer);
      const q = input.value.trim();
      if (q.length < 2) { cancel(); list.textContent = ''; shownFor = ''; close(); return; }
      timer = setTimeout(() => load(q), 120);
    });

    input.addEventListener('keydown', (e) => {
      if (e.isComposing) return;  // IME composition in progress
      const n = list.children.length;
      switch (e.key) {
        case 'ArrowDown':
          if (!n) return;
          e.preventDefault();
          if (list.hidden) { open(); highlight(0, true); } else highlight(active + 1 >= n ? -1 : active + 1, true);
          break;
        case 'ArrowUp':
          if (!n || list.hidden) return;
          e.preventDefault();
          highlight(active - 1 < -1 ? n - 1 : active - 1, true);  // -1 = back in the input
          break;
        case 'Enter':
          if (!list.hidden && active >= 0) {
            e.preventDefault();
            if (pick) { choose(list.children[active]); break; }
            const a = list.children[active].querySelector('a');
            if (a) window.location.assign(a.href);
          } else if (pick) {
            cancel();
            close();
          } else {
            cancel();  // plain submit to /search; don't pop the list up meanwhile
            close();
          }
          break;
        case 'Escape':
          if (!list.hidden) { e.preventDefault(); close(); }  // otherwise the browser clears the field
          break;
      }
    });

    input.addEventListener('blur', () => { blurTimer = setTimeout(close, 150); });
    input.addEventListener('focus', () => {
      clearTimeout(blurTimer);
      if (list.children.length && input.value.trim() === shownFor) open();
    });
    function choose(li) {
      input.value = li.dataset.name || '';
      cancel();
      shownFor = input.value.trim();
      close();
    }
    // Keep focus in the input while clicking an item (the click still follows the link,
    // or, in a link field, takes the record's name).
    list.addEventListener('mousedown', (e) => e.preventDefault());
    list.addEventListener('click', (e) => {
      const li = pick && e.target.closest && e.target.closest('li');
      if (li) { e.preventDefault(); choose(li); }
    });
    list.addEventListener('mousemove', (e) => {
      const li = e.target.closest && e.target.closest('li');
      const i = li ? Array.prototype.indexOf.call(list.children, li) : -1;
      if (i >= 0 && i !== active) highlight(i, false);
    });
    // Back/forward cache restores the page as it was: don't show a stale dropdown.
    window.addEventListener('pageshow', () => { cancel(); close(); });
  }

  /* ---------- 3. Select-all checkbox in list tables ---------- */
  const idBoxes = (form) => Array.from(form.querySelectorAll('input[type="checkbox"][name="id"]'));

  function syncSelectAll(form) {
    const all = form.querySelector('input.select-all');
    if (!all) return;
    const boxes = idBoxes(form);
    const on = boxes.filter((b) => b.checked).length;
    all.checked = boxes.length > 0 && on === boxes.length;
    all.indeterminate = on > 0 && on < boxes.length;
  }

  document.addEventListener('change', (e) => {
    const t = e.target;
    if (!(t instanceof HTMLInputElement) || !t.form) return;
    if (t.classList.contains('select-all')) {
      idBoxes(t.form).forEach((b) => { b.checked = t.checked; });
    } else if (t.type === 'checkbox' && t.name === 'id') {
      syncSelectAll(t.form);
    }
  });

  /* ---------- 4 & 7. Confirmations and bulk-form guard ---------- */
  document.addEventListener('submit', (e) => {
    const f = e.target;
    if (!(f instanceof HTMLFormElement)) return;
    // getAttribute, not f.id: the bulk form's <input name="id"> controls shadow form.id.
    if (f.getAttribute('id') === 'bulk-form') {
      if (!f.querySelector('input[name="id"]:checked')) {
        e.preventDefault();
        window.alert(T.selectFirst);
        return;
      }
      // Bulk delete is not marked .confirm in the markup but deserves the same question.
      const act = f.querySelector('input[name="action"]:checked');
      if (act && act.value === 'delete' && !window.confirm(T.sure)) { e.preventDefault(); return; }
    }
    if (f.classList.contains('confirm') && !window.confirm(T.sure)) e.preventDefault();
  });

  /* ---------- 2, 6 and nav: keyboard shortcuts ---------- */
  document.addEventListener('keydown', (e) => {
    // "/" jumps to search unless the user is typing somewhere.
    if (e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey && !e.defaultPrevented && !isField(e.target)) {
      const s = document.getElementById('global-search');
      if (s) { e.preventDefault(); s.focus(); s.select(); }
      return;
    }
    // Ctrl/Cmd+Enter in a note textarea submits it (requestSubmit keeps validation + submit handlers).
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && e.target instanceof HTMLTextAreaElement) {
      const f = e.target.closest('form.note-form, .note-edit form');
      if (!f) return;
      e.preventDefault();
      if (f.requestSubmit) f.requestSubmit(); else if (f.reportValidity()) f.submit();
      return;
    }
    // Escape closes the off-canvas navigation on phones.
    if (e.key === 'Escape') {
      const nav = document.getElementById('nav-toggle');
      if (nav && nav.checked) nav.checked = false;
    }
  });

  // Tapping outside the open off-canvas navigation closes it.
  document.addEventListener('click', (e) => {
    const nav = document.getElementById('nav-toggle');
    if (!nav || !nav.checked || !(e.target instanceof Element)) return;
    if (!e.target.closest('nav.side, label.burger, #nav-toggle')) nav.checked = false;
  });

  /* ---------- 5. Local date-times ---------- */
  function localTimes(root) {
    root.querySelectorAll('time[datetime]').forEach((el) => {
      const d = new Date(el.getAttribute('datetime'));
      if (isNaN(d.getTime())) return;
      // The zone the server chose (the user's setting, else this browser's) wins.
      const zone = document.documentElement.dataset.zone || undefined;
      let text;
      try {
        text = d.toLocaleString(lang || undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: zone });
      } catch (err) {
        text = d.toLocaleString();  // unknown locale tag or zone, or a very old engine
      }
      if (!el.title) el.title = `${el.textContent.trim()} (${zone || 'local'})`;
      el.textContent = text;
    });
  }

  /* ---------- Start ---------- */
  initTypeahead(document.getElementById('global-search'), document.getElementById('suggest'));
  document.querySelectorAll('input[data-pick][aria-controls]').forEach((input) => {
    initTypeahead(input, document.getElementById(input.getAttribute('aria-controls')));
  });
  localTimes(document);
  // Browsers may restore checkbox state on back/forward; reflect it in select-all.
  const syncAll = () => document.querySelectorAll('input.select-all').forEach((a) => { if (a.form) syncSelectAll(a.form); });
  syncAll();
  window.addEventListener('pageshow', syncAll);
})();
