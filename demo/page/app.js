// The page: plays the Slack client for the demo's people, and shows their phones and the /deploy
// endpoint. It draws the state the demo serves (/state), redraws on each server-sent event (/events),
// and sends what the person does (/act). A part is redrawn only when its data changed, so that typing
// is never lost to a redraw.
import { enteredValues, h, renderBlocks, restoreValues } from './blocks.js';
import { escapeHtml, mrkdwnToHtml } from './mrkdwn.js';

const $ = (selector) => document.querySelector(selector);
const ui = {
  me: new URLSearchParams(location.hash.slice(1)).get('as') ?? localStorage.getItem('phonegate-demo-as') ?? '',
  /** Where the person is: a channel, or the app (its Home or Messages tab). */
  place: { kind: 'channel', id: 'C0DEMOGEN' },
  state: undefined,
  drawn: {},
  seen: {},
};

// --- talking to the demo ---------------------------------------------------------------------

let fetching = false;
let again = false;
async function refresh() {
  if (fetching) {
    again = true;
    return;
  }
  fetching = true;
  try {
    do {
      again = false;
      const res = await fetch(`/state?as=${encodeURIComponent(ui.me)}`);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      ui.state = await res.json();
      ui.me = ui.state.me; // the first person when none (or an unknown one) was chosen
      draw();
    } while (again);
  } catch {
    setStatus('The demo is not answering (stopped?). Start it again with npm run demo.');
  } finally {
    fetching = false;
  }
}

async function act(action) {
  try {
    const res = await fetch('/act', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ as: ui.me, ...action }),
    });
    if (!res.ok) setStatus(`The stand-in refused that: ${(await res.json()).error}`);
  } catch {
    setStatus('The demo is not answering (stopped?).');
  }
  await refresh();
}

function setStatus(text) {
  $('#status').textContent = text;
  $('#status').hidden = !text;
}

const events = new EventSource('/events');
events.onmessage = () => refresh();
events.onopen = () => {
  setStatus('');
  refresh();
};
events.onerror = () => setStatus('Lost the connection to the demo; trying again...');

// --- drawing ---------------------------------------------------------------------------------

/** Redraws `part` with `draw(data)` only when `data` differs from what was drawn last. */
function drawPart(part, data, drawIt) {
  const key = JSON.stringify(data);
  if (ui.drawn[part] === key) return;
  ui.drawn[part] = key;
  drawIt(data);
}

function names() {
  const all = { [ui.state.bot.id]: ui.state.bot.name };
  for (const p of ui.state.people) all[p.id] = p.name;
  for (const c of ui.state.conversations) if (c.kind === 'channel') all[c.id] = c.name;
  return all;
}

const person = (id) => ui.state.people.find((p) => p.id === id);
const conversationOf = (id) => ui.state.conversations.find((c) => c.id === id);
const myDm = () => ui.state.conversations.find((c) => c.kind === 'dm');
const current = () => (ui.place.kind === 'app' ? myDm() : conversationOf(ui.place.id));

function draw() {
  const s = ui.state;
  drawPart('people', { me: ui.me, people: s.people }, drawPeople);
  drawPart('sidebar', { me: ui.me, place: ui.place, unread: unread() }, drawSidebar);
  drawPart('header', { place: ui.place, me: ui.me }, drawHeader);
  if (ui.place.kind === 'app' && ui.place.tab === 'home') {
    drawPart('main', { home: s.home, me: ui.me }, () => drawHome(s.home));
  } else {
    const conversation = current();
    drawPart('main', { id: conversation.id, messages: conversation.messages, me: ui.me }, () =>
      drawMessages(conversation),
    );
    ui.seen[conversation.id] = conversation.messages.length;
  }
  $('#composer').hidden = ui.place.kind === 'app' && ui.place.tab === 'home';
  drawPart('phones', { phones: s.phones, me: ui.me }, drawPhones);
  drawPart('endpoint', s.endpoint, drawEndpoint);
  drawPart('log', { log: s.log, notes: s.notes }, drawLog);
  drawPart('modal', { modals: s.modals, me: ui.me }, () => drawModal(s.modals.at(-1)));
}

function unread() {
  const dm = myDm();
  const inApp = ui.place.kind === 'app' && ui.place.tab === 'messages';
  return !inApp && dm.messages.length > (ui.seen[dm.id] ?? 0);
}

function drawPeople() {
  $('#people').replaceChildren(
    ...ui.state.people.map((p) =>
      h(
        'button',
        {
          type: 'button',
          className: 'person',
          'data-person': p.id,
          'aria-pressed': p.id === ui.me ? 'true' : 'false',
          onclick: () => choosePerson(p.id),
        },
        h('span', { className: `avatar a-${p.id}` }, initials(p.name)),
        h('span', { className: 'person-name' }, p.name),
        h('span', { className: 'person-title' }, p.title),
      ),
    ),
  );
}

function drawSidebar({ unread: hasUnread }) {
  const channels = ui.state.conversations.filter((c) => c.kind === 'channel');
  $('#channels').replaceChildren(
    ...channels.map((c) =>
      h(
        'button',
        {
          type: 'button',
          className: `place${ui.place.kind === 'channel' && ui.place.id === c.id ? ' active' : ''}`,
          'data-channel': c.id,
          onclick: () => go({ kind: 'channel', id: c.id }),
        },
        `# ${c.name}`,
      ),
    ),
  );
  $('#apps').replaceChildren(
    h(
      'button',
      {
        type: 'button',
        className: `place${ui.place.kind === 'app' ? ' active' : ''}${hasUnread ? ' unread' : ''}`,
        'data-app': 'phonegate',
        onclick: () => go({ kind: 'app', tab: 'home' }),
      },
      h('span', { className: 'app-icon' }, 'PG'),
      ui.state.bot.name,
    ),
  );
}

function drawHeader() {
  if (ui.place.kind === 'channel') {
    $('#place-title').textContent = `# ${conversationOf(ui.place.id).name}`;
    $('#tabs').replaceChildren();
    return;
  }
  $('#place-title').replaceChildren(
    h('span', { className: 'app-icon' }, 'PG'),
    ui.state.bot.name,
    h('span', { className: 'app-badge' }, 'APP'),
  );
  const tab = (name, label) =>
    h(
      'button',
      {
        type: 'button',
        id: `tab-${name}`,
        role: 'tab',
        'aria-selected': ui.place.tab === name ? 'true' : 'false',
        onclick: () => go({ kind: 'app', tab: name }),
      },
      label,
    );
  $('#tabs').replaceChildren(tab('home', 'Home'), tab('messages', 'Messages'));
}

function drawMessages(conversation) {
  const list = $('#conversation');
  const stick = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const items = conversation.messages.map((m) => drawMessage(conversation, m));
  if (items.length === 0)
    items.push(
      h(
        'p',
        { className: 'empty' },
        conversation.kind === 'dm'
          ? `Direct messages from ${ui.state.bot.name} to you appear here.`
          : 'Type a slash command below, such as /login.',
      ),
    );
  list.replaceChildren(...items);
  if (stick || items.length < 30) list.scrollTop = list.scrollHeight;
}

function drawMessage(conversation, m) {
  const isBot = m.user === ui.state.bot.id;
  const author = m.fromSlack ? 'Slack stand-in' : isBot ? ui.state.bot.name : (person(m.user)?.name ?? m.user);
  const body = m.command
    ? h('div', { className: 'text command', html: mrkdwnToHtml(m.text, names()) })
    : m.blocks?.length
      ? renderBlocks(m.blocks, {
          names: names(),
          onClick: (block, action) =>
            act({ kind: 'click', where: { channel: conversation.id, ts: m.ts }, block, action }),
        })
      : h('div', { className: 'text', html: mrkdwnToHtml(m.text, names()) });
  return h(
    'article',
    {
      className: `message${m.ephemeralTo ? ' ephemeral' : ''}${m.command ? ' typed' : ''}${isBot ? ' from-bot' : ''}`,
      'data-ts': m.ts,
    },
    h(
      'span',
      { className: `avatar${isBot ? ' bot' : ` a-${m.user}`}` },
      isBot ? 'PG' : m.fromSlack ? 'S' : initials(author),
    ),
    h(
      'div',
      { className: 'message-main' },
      h(
        'div',
        { className: 'message-meta' },
        h('span', { className: 'author' }, author),
        isBot ? h('span', { className: 'app-badge' }, 'APP') : undefined,
        h('time', {}, clock(Number(m.ts) * 1000)),
        m.ephemeralTo ? h('span', { className: 'only-you' }, 'Only visible to you') : undefined,
        m.edited ? h('span', { className: 'edited' }, '(edited)') : undefined,
      ),
      body,
    ),
  );
}

function drawHome(home) {
  $('#conversation').replaceChildren(
    home
      ? h(
          'div',
          { className: 'home', 'data-view-id': home.id },
          renderBlocks(home.view.blocks, {
            names: names(),
            onClick: (block, action) => act({ kind: 'click', where: { view: home.id }, block, action }),
          }),
        )
      : h('p', { className: 'empty' }, `Opening ${ui.state.bot.name}'s Home tab...`),
  );
}

function drawPhones() {
  $('#phones-list').replaceChildren(
    ...ui.state.people.map((p) => {
      const arrived = ui.state.phones[p.id] ?? [];
      return h(
        'div',
        { className: `phone${p.id === ui.me ? ' mine' : ''}`, 'data-person': p.id },
        h(
          'div',
          { className: 'phone-head' },
          h('span', { className: 'person-name' }, `${p.name}'s phone`),
          h('span', { className: 'number' }, formatNumber(p.phone)),
        ),
        arrived.length === 0
          ? h('div', { className: 'arrival empty' }, 'Nothing yet.')
          : h(
              'ol',
              { className: 'arrivals' },
              ...arrived
                .slice(-3)
                .reverse()
                .map((a) =>
                  h(
                    'li',
                    { className: `arrival ${a.kind}`, 'data-code': a.code, 'data-key': a.id },
                    h(
                      'div',
                      { className: 'arrival-meta' },
                      a.kind === 'sms'
                        ? `\u2709 Text from ${formatNumber(a.from)}`
                        : `\u260e Call from ${formatNumber(a.from)}`,
                      h('time', {}, clock(a.at)),
                    ),
                    h('div', { className: 'arrival-text', html: withCode(a) }),
                  ),
                ),
            ),
      );
    }),
  );
}

/** The text that arrived, the code in it set apart (a call's transcript reads it digit by digit). */
function withCode(a) {
  const spoken = a.kind === 'call' ? a.code.split('').join(', ') : a.code;
  const text = a.kind === 'call' ? `\u201c${a.text}\u201d` : a.text;
  return escapeHtml(text).replace(escapeHtml(spoken), `<b class="code">${escapeHtml(spoken)}</b>`);
}

function drawEndpoint(endpoint) {
  $('#endpoint-url').textContent = `${endpoint.command} calls POST ${endpoint.url}`;
  const received = endpoint.received.slice(-2).reverse();
  $('#endpoint-list').dataset.count = String(endpoint.received.length);
  $('#endpoint-list').replaceChildren(
    ...(received.length === 0
      ? [h('p', { className: 'empty' }, `Nothing received yet. An admin can run ${endpoint.command} api 1.4.2.`)]
      : received.map((r) =>
          h(
            'div',
            { className: `received ${r.verified ? 'verified' : 'refused'}` },
            h(
              'div',
              { className: 'received-head' },
              r.verified ? '\u2714 Token verified' : '\u2718 Refused',
              h('time', {}, clock(r.at)),
            ),
            r.verified ? claimsTable(r.claims) : h('div', { className: 'refusal' }, r.refusal),
            h('div', { className: 'label' }, 'Body'),
            h('pre', { className: 'body' }, JSON.stringify(r.body, null, 1)),
            h('div', { className: 'label' }, `Answered HTTP ${r.answer.status}`),
            h('pre', { className: 'answer' }, JSON.stringify(r.answer.body)),
          ),
        )),
  );
}

/** The claims an endpoint decides on first; any others after them. */
const CLAIM_ORDER = ['sub', 'scope', 'amr', 'auth_time', 'iss', 'aud', 'iat', 'exp', 'jti', 'body_sha256'];

function claimsTable(claims) {
  const keys = [
    ...CLAIM_ORDER.filter((k) => k in claims),
    ...Object.keys(claims).filter((k) => !CLAIM_ORDER.includes(k)),
  ];
  const rows = keys.map((k) => {
    const v = claims[k];
    let value = Array.isArray(v) ? v.join(', ') : String(v);
    if (['iat', 'exp', 'auth_time'].includes(k)) value = `${value} (${clock(v * 1000)})`;
    if (k === 'sub') value = `${value} (${person(v)?.name ?? '?'})`;
    if (k === 'body_sha256' || k === 'jti') value = `${value.slice(0, 12)}\u2026`;
    return h('tr', { 'data-claim': k }, h('th', {}, k), h('td', {}, value));
  });
  return h('table', { className: 'claims' }, h('tbody', {}, ...rows));
}

function drawLog({ log, notes }) {
  $('#log-list').replaceChildren(
    ...notes.map((n) => h('li', { className: 'note' }, `${clock(n.at)} stand-in: ${n.text}`)),
    ...log.map((l) =>
      h('li', { className: `level-${l.level}` }, `${l.at ? `${clock(l.at)} ` : ''}${l.level} ${l.text}`),
    ),
  );
}

function drawModal(top) {
  const layer = $('#modal-layer');
  if (!top) {
    layer.hidden = true;
    layer.replaceChildren();
    return;
  }
  const previous = layer.querySelector('.modal');
  const kept = previous?.dataset.viewId === top.id ? enteredValues(previous) : undefined;
  const view = top.view;
  const submit = () => act({ kind: 'submit', view: top.id, values: enteredValues(modal) });
  const modal = h(
    'form',
    {
      className: 'modal',
      role: 'dialog',
      'aria-modal': 'true',
      'aria-labelledby': 'modal-title',
      'data-view-id': top.id,
      'data-callback-id': view.callback_id ?? '',
      onsubmit: (event) => {
        event.preventDefault();
        if (view.submit) submit();
      },
    },
    h(
      'header',
      {},
      h('span', { className: 'app-icon' }, 'PG'),
      h('h2', { id: 'modal-title', className: 'modal-title' }, view.title?.text ?? ''),
      h(
        'button',
        {
          type: 'button',
          className: 'modal-x',
          'aria-label': 'Close',
          onclick: () => act({ kind: 'close', view: top.id }),
        },
        '\u00d7',
      ),
    ),
    h(
      'div',
      { className: 'modal-body' },
      renderBlocks(view.blocks, {
        names: names(),
        errors: top.errors,
        onClick: (block, action) =>
          act({ kind: 'click', where: { view: top.id }, block, action, values: enteredValues(modal) }),
      }),
    ),
    top.trouble ? h('div', { className: 'trouble', role: 'alert' }, top.trouble) : undefined,
    h(
      'footer',
      {},
      h(
        'button',
        { type: 'button', className: 'modal-close block-button', onclick: () => act({ kind: 'close', view: top.id }) },
        view.close?.text ?? 'Close',
      ),
      view.submit
        ? h('button', { type: 'submit', className: 'modal-submit block-button primary' }, view.submit.text)
        : undefined,
    ),
  );
  layer.replaceChildren(modal);
  layer.hidden = false;
  if (kept) restoreValues(modal, kept);
  else modal.querySelector('input[type=text], textarea')?.focus();
}

// --- what the person does --------------------------------------------------------------------

function choosePerson(id) {
  ui.me = id;
  localStorage.setItem('phonegate-demo-as', id);
  history.replaceState(null, '', `#as=${id}`);
  ui.seen = {};
  if (ui.place.kind === 'app' && ui.place.tab === 'home') void act({ kind: 'open_app', tab: 'home' });
  else void refresh();
}

function go(place) {
  ui.place = place;
  if (place.kind === 'app') void act({ kind: 'open_app', tab: place.tab });
  else draw();
  $('#composer-input').focus();
}

$('#composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('#composer-input');
  const text = input.value.trim();
  if (!text) return;
  input.value = '';
  void act({ kind: 'type', channel: current().id, text });
});
$('#composer-input').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    $('#composer').requestSubmit();
  }
});

// --- small helpers ---------------------------------------------------------------------------

function initials(name) {
  return name
    .split(/\s+/)
    .map((w) => w[0])
    .join('')
    .slice(0, 2)
    .toUpperCase();
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** +14155550101 -> +1 415-555-0101 (the demo's numbers are all North American). */
function formatNumber(e164) {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return m ? `+1 ${m[1]}-${m[2]}-${m[3]}` : e164;
}

refresh();
