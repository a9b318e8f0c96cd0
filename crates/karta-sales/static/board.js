// The pipeline board: drag and drop and keyboard moves of deal cards.
// Loaded with `defer` under CSP `script-src 'self'`. Without it every card still moves through
// its own small form; with it a move is a fetch POST to /deals/{id}/move that answers JSON:
// 200 moved, 422 the stage needs fields (asked for in a <dialog>), 409 the card was stale.
(function () {
  'use strict';

  if (!document.getElementById('board') || !window.fetch || !window.URLSearchParams) return;

  const boardEl = () => document.getElementById('board');
  const live = document.getElementById('board-status');
  const dlg = document.getElementById('move-dialog');
  const help = document.getElementById('board-help');
  const text = (k) => boardEl().getAttribute('data-t-' + k) || '';
  const fill = (s, vars) => s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? vars[k] : m));
  const FILLABLE = ['amount', 'close_date', 'next_step', 'source'];

  if (help) help.hidden = false;  // the keyboard / drag hint only makes sense with the script

  const csrf = () => {
    const i = document.querySelector('input[name="_csrf"]');
    return i ? i.value : '';
  };
  const columns = () => Array.from(boardEl().querySelectorAll('.board-col'));
  const colOf = (stage) => columns().find((c) => c.dataset.stage === stage);
  const stageName = (stage) => {
    const c = colOf(stage);
    const h = c && c.querySelector('h2');
    return h ? h.textContent.trim() : '';
  };
  const isField = (el) => !!el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(el.tagName));

  let liveTimer = 0;
  function announce(msg, isError) {
    if (!live) return;
    clearTimeout(liveTimer);
    live.textContent = '';
    live.classList.toggle('is-error', !!isError);
    // A fresh text node after a tick is announced even when the message repeats.
    liveTimer = setTimeout(() => { live.textContent = msg; }, 30);
  }

  /* ---------- Re-rendering the board after a move ---------- */
  // The server renders the counts and sums; the simplest correct update is its HTML.
  async function refresh(focusId) {
    const url = boardEl().dataset.back || window.location.href;
    try {
      const res = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
      const type = res.headers.get('content-type') || '';
      if (!res.ok || type.indexOf('text/html') < 0) throw new Error('refresh');
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const fresh = doc.getElementById('board');
      if (!fresh) throw new Error('refresh');
      const scroll = boardEl().scrollLeft;
      boardEl().replaceWith(document.importNode(fresh, true));
      boardEl().scrollLeft = scroll;
      const total = doc.querySelector('.page-head h1');
      const mine = document.querySelector('.page-head h1');
      if (total && mine) mine.replaceWith(document.importNode(total, true));
      if (focusId) {
        const card = document.getElementById('deal-' + focusId);
        if (card) {
          card.focus({ preventScroll: true });
          card.scrollIntoView({ block: 'nearest', inline: 'nearest' });
        }
      }
    } catch (err) {
      window.location.reload();
    }
  }

  /* ---------- The move ---------- */
  let busy = false;

  async function move(card, stage, extra, fromDialog) {
    if (busy || !card || !stage) return;
    const from = card.dataset.stage;
    if (stage === from && !fromDialog) return;
    busy = true;
    const id = card.dataset.id;
    const title = card.dataset.title || '';
    const body = new URLSearchParams();
    body.set('_csrf', csrf());
    body.set('stage_id', stage);
    body.set('version', card.dataset.version || '');
    body.set('back', boardEl().dataset.back || '/board');
    Object.keys(extra || {}).forEach((k) => body.set(k, extra[k]));
    card.setAttribute('aria-busy', 'true');
    announce(fill(text('moving'), { title: title, stage: stageName(stage) }));
    let res = null;
    let data = null;
    try {
      res = await fetch('/deals/' + encodeURIComponent(id) + '/move', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { Accept: 'application/json', 'x-csrf-token': csrf() },
        body: body,
      });
      const type = res.headers.get('content-type') || '';
      if (type.indexOf('json') >= 0) data = await res.json();
    } catch (err) {
      res = null;
    }
    busy = false;
    card.removeAttribute('aria-busy');
    if (res && res.ok && data && data.ok) {
      if (dlg && dlg.open) dlg.close();
      const msg = fill(text('moved'), { title: title, stage: stageName(stage) });
      await refresh(id);
      announce(msg);
      return;
    }
    if (res && res.status === 422 && data) {
      const missing = Array.isArray(data.missing) ? data.missing : [];
      const errors = data.errors && typeof data.errors === 'object' ? data.errors : {};
      if (missing.length || (fromDialog && Object.keys(errors).length)) {
        await refresh(null);
        openDialog(id, title, stage, missing, errors, data.labels && typeof data.labels === 'object' ? data.labels : {});
        return;
      }
      const first = Object.keys(errors).map((k) => String(errors[k])).join(' ');
      if (fromDialog && dlg && dlg.open) {
        // Refused without naming a field (say, an amount that is not a number): keep the input.
        dlg.querySelectorAll('label[data-field] small.error').forEach((e) => { e.textContent = ''; e.hidden = true; });
        const gen = dlg.querySelector('.dialog-error');
        gen.textContent = first || text('check');
        gen.hidden = false;
        announce('');
        return;
      }
      await refresh(id);
      announce(first || text('failed'), true);
      return;
    }
    if (dlg && dlg.open) dlg.close();
    if (res && res.status === 409) {
      await refresh(id);
      announce(text('stale'), true);
      return;
    }
    await refresh(id);
    announce(text('failed'), true);
  }

  /* ---------- The dialog for fields the stage requires ---------- */
  let pending = null;  // { id, title, stage }

  function openDialog(id, title, stage, missing, errors, labels) {
    if (!dlg || typeof dlg.showModal !== 'function') {
      window.location.assign('/deals/' + encodeURIComponent(id));
      return;
    }
    pending = { id: id, title: title, stage: stage };
    const form = dlg.querySelector('form');
    if (!dlg.open) form.querySelectorAll('label[data-field] input').forEach((i) => { i.value = ''; });
    form.action = '/deals/' + encodeURIComponent(id) + '/move';
    dlg.querySelector('.move-what').textContent = title + ' → ' + stageName(stage);
    const want = missing.slice();
    // A field with an error on a re-post stays in the dialog even when no longer "missing".
    Object.keys(errors).forEach((f) => { if (want.indexOf(f) < 0) want.push(f); });
    let firstInput = null;
    let firstInvalid = null;
    dlg.querySelectorAll('label[data-field]').forEach((lab) => {
      const f = lab.getAttribute('data-field');
      const on = want.indexOf(f) >= 0;
      lab.hidden = !on;
      const input = lab.querySelector('input');
      const err = lab.querySelector('small.error');
      input.disabled = !on;
      input.required = on;
      if (!on) input.value = '';
      const msg = errors[f] ? String(errors[f]) : '';
      err.textContent = msg;
      err.hidden = !msg;
      lab.classList.toggle('invalid', !!msg);
      if (msg) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
      if (on && !firstInput) firstInput = input;
      if (on && msg && !firstInvalid) firstInvalid = input;
    });
    const onPage = want.filter((f) => FILLABLE.indexOf(f) < 0);
    const need = dlg.querySelector('.need-page');
    need.hidden = onPage.length === 0;
    dlg.querySelector('.need-list').textContent =
      onPage.map((f) => labels[f] || dlg.getAttribute('data-l-' + f) || f).join(', ');
    dlg.querySelector('.need-link').href = '/deals/' + encodeURIComponent(id);
    const other = Object.keys(errors).filter((f) => FILLABLE.indexOf(f) < 0 && onPage.indexOf(f) < 0);
    const gen = dlg.querySelector('.dialog-error');
    gen.textContent = other.map((f) => String(errors[f])).join(' ');
    gen.hidden = other.length === 0;
    const submit = form.querySelector('button[type="submit"]');
    submit.hidden = !firstInput;  // nothing to fill here: only the deal page can help
    dlg.querySelector('.grid').hidden = !firstInput;
    announce('');  // the dialog speaks for itself
    if (!dlg.open) dlg.showModal();
    const focus = firstInvalid || firstInput || dlg.querySelector('.need-link');
    if (focus) focus.focus();
  }

  function closeDialog() {
    if (dlg && dlg.open) dlg.close();
  }

  if (dlg) {
    dlg.querySelector('form').addEventListener('submit', (e) => {
      e.preventDefault();
      if (!pending) return;
      const card = document.getElementById('deal-' + pending.id);
      if (!card) { closeDialog(); return; }
      const extra = {};
      dlg.querySelectorAll('label[data-field]').forEach((lab) => {
        const input = lab.querySelector('input');
        if (!lab.hidden && input.value.trim()) extra[input.name] = input.value.trim();
      });
      move(card, pending.stage, extra, true);
    });
    dlg.querySelector('.dlg-cancel').addEventListener('click', closeDialog);
    dlg.addEventListener('close', () => {
      const id = pending && pending.id;
      pending = null;
      const card = id && document.getElementById('deal-' + id);
      if (card) card.focus();
    });
  }

  /* ---------- The no-script forms, enhanced ---------- */
  document.addEventListener('submit', (e) => {
    const f = e.target;
    if (!(f instanceof HTMLFormElement) || !f.classList.contains('move-form')) return;
    const card = f.closest('.deal-card');
    const sel = f.querySelector('select[name="stage_id"]');
    if (!card || !sel) return;
    e.preventDefault();
    if (sel.value === card.dataset.stage) return;
    move(card, sel.value, {}, false);
  });

  /* ---------- Drag and drop ---------- */
  let dragged = null;

  function clearTargets() {
    document.querySelectorAll('.board-col.drop-target').forEach((c) => c.classList.remove('drop-target'));
  }

  document.addEventListener('dragstart', (e) => {
    const card = e.target instanceof Element ? e.target.closest('.deal-card') : null;
    if (!card || busy) return;
    dragged = card;
    card.classList.add('dragging');
    if (e.dataTransfer) {
      e.dataTransfer.effectAllowed = 'move';
      e.dataTransfer.setData('text/plain', card.dataset.title || card.dataset.id);
    }
  });
  document.addEventListener('dragend', () => {
    if (dragged) dragged.classList.remove('dragging');
    dragged = null;
    clearTargets();
  });
  document.addEventListener('dragover', (e) => {
    const col = dragged && e.target instanceof Element ? e.target.closest('.board-col') : null;
    if (!col) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = col.dataset.stage === dragged.dataset.stage ? 'none' : 'move';
    if (!col.classList.contains('drop-target') && col.dataset.stage !== dragged.dataset.stage) {
      clearTargets();
      col.classList.add('drop-target');
    }
  });
  document.addEventListener('dragleave', (e) => {
    const col = e.target instanceof Element ? e.target.closest('.board-col') : null;
    if (col && !(e.relatedTarget instanceof Node && col.contains(e.relatedTarget))) col.classList.remove('drop-target');
  });
  document.addEventListener('drop', (e) => {
    const col = dragged && e.target instanceof Element ? e.target.closest('.board-col') : null;
    if (!col) return;
    e.preventDefault();
    const card = dragged;
    clearTargets();
    card.classList.remove('dragging');
    dragged = null;
    if (col.dataset.stage === card.dataset.stage) return;
    // Show it in the new column at once; the refresh after the answer puts everything right.
    const list = col.querySelector('ol.cards');
    if (list) list.insertBefore(card, list.firstChild);
    move(card, col.dataset.stage, {}, false);
  });

  /* ---------- Keyboard ---------- */
  function focusCard(card) {
    if (!card) return;
    card.focus();
    card.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }

  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.isComposing || !(e.target instanceof Element)) return;
    const card = e.target.closest('.deal-card');
    if (!card || isField(e.target) || e.ctrlKey || e.metaKey) return;
    let dir = 0;
    if (e.altKey && e.key === 'ArrowRight') dir = 1;
    else if (e.altKey && e.key === 'ArrowLeft') dir = -1;
    // `]` / `[` by key or by position (a Russian layout types ъ / х there).
    else if (!e.altKey && (e.key === ']' || e.code === 'BracketRight')) dir = 1;
    else if (!e.altKey && (e.key === '[' || e.code === 'BracketLeft')) dir = -1;
    if (dir) {
      e.preventDefault();
      const cols = columns();
      const i = cols.findIndex((c) => c.dataset.stage === card.dataset.stage);
      const j = i + dir;
      if (i < 0 || j < 0 || j >= cols.length) {
        announce(text(dir > 0 ? 'last' : 'first'), true);
        return;
      }
      move(card, cols[j].dataset.stage, {}, false);
      return;
    }
    if (e.altKey || e.shiftKey || e.target !== card) return;
    // Arrows walk the cards: up / down in a column, left / right to the neighbour columns.
    const list = Array.from(card.parentElement.children).filter((x) => x.classList.contains('deal-card'));
    const k = list.indexOf(card);
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const next = list[k + (e.key === 'ArrowDown' ? 1 : -1)];
      if (next) { e.preventDefault(); focusCard(next); }
    } else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      const cols = columns();
      let i = cols.findIndex((c) => c.contains(card));
      const step = e.key === 'ArrowRight' ? 1 : -1;
      for (i += step; i >= 0 && i < cols.length; i += step) {
        const cards = cols[i].querySelectorAll('.deal-card');
        if (cards.length) {
          e.preventDefault();
          focusCard(cards[Math.min(k, cards.length - 1)]);
          break;
        }
      }
    }
  });
})();
