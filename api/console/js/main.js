// The rep console: sign in with a rep key, presence, live offers from the stream, accepted transfers.
import { call, describe, useKey } from './api.js';
import { formatTime, t, useLocale } from './i18n.js';
import { OfferCard, prospectLabel } from './offer.js';
import { openStream } from './stream.js';
import { onDesk, TransferPanel } from './transfer.js';

const KEY = 'wt.repKey';
const $ = (id) => document.getElementById(id);
const cards = new Map(); // transfer id -> OfferCard
const panels = new Map(); // transfer id -> TransferPanel
let me = null;
let stopStream = () => {};
let events = Promise.resolve(); // events are handled one at a time, in stream order
// How an offer can end by the rep's own answer; one that lapsed or was withdrawn leaves the screen its own way.
const ANSWERED = new Set(['accepted', 'declined', 'deferred', 'callback']);

function say(message) {
  const item = document.createElement('li');
  item.textContent = message;
  $('messages').prepend(item);
  while ($('messages').children.length > 5) $('messages').lastChild.remove();
}

function showOffersHint() {
  $('no-offers').hidden = cards.size > 0;
}

async function signIn(key) {
  useKey(key, () => signOut(t('error.unauthorized')));
  try {
    me = await call('GET', '/v1/reps/me');
  } catch (error) {
    signOut(describe(error));
    return;
  }
  sessionStorage.setItem(KEY, key);
  await useLocale(me.rep.locale);
  $('rep-name').textContent = me.rep.name;
  $('presence').value = me.presence;
  $('sign-in').hidden = true;
  $('rep-bar').hidden = false;
  $('desk').hidden = false;
  showOffersHint();
  stopStream = openStream({
    onEvent: (event) => { events = events.then(() => handle(event)).catch((error) => say(describe(error))); },
    onState: (state) => { $('stream-state').textContent = t(`stream.${state}`); },
    onRefused: () => signOut(t('error.unauthorized')),
  });
}

function signOut(message) {
  stopStream();
  sessionStorage.clear();
  me = null;
  for (const card of cards.values()) card.stop();
  for (const panel of panels.values()) panel.element.remove();
  cards.clear();
  panels.clear();
  $('messages').replaceChildren();
  $('rep-bar').hidden = true;
  $('desk').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message ?? '';
  $('key').value = '';
  $('key').focus();
}

async function handle({ event, data }) {
  const payload = JSON.parse(data);
  const id = payload.transfer_id;
  const shown = cards.get(id) ?? panels.get(id);
  if (event === 'offer' || event === 'follow_up_due') return place(event, payload);
  if (event === 'note') return shown?.addNote(payload.note);
  if (event === 'offer_closed' && ANSWERED.has(payload.outcome)) return settle(id);
  if (event === 'withdrawn' && shown) {
    cards.get(id)?.stop();
    cards.delete(id);
    panels.get(id)?.close();
    showOffersHint();
    return say(t('withdrawn', { who: shown.who, reason: payload.reason }));
  }
  if (event !== 'recovery' && event !== 'follow_up_scheduled') return;
  // Notices matter while the transfer is still in the state they announce; a replayed old one is skipped.
  const view = await currentView(id);
  const who = prospectLabel(payload.context, id);
  if (event === 'recovery' && view?.status === 'recovering') say(t('recovery', { who }));
  if (event === 'follow_up_scheduled' && view?.follow_up_at) {
    say(t('follow_up_scheduled', { who, when: formatTime(view.follow_up_at) }));
  }
}

// An offer answered elsewhere (in Slack) leaves the screen; one accepted there goes on the desk. Checked against the
// transfer's current state, as the stream replays old notices after a reload.
async function settle(id) {
  const card = cards.get(id);
  if (!card) return;
  const view = await currentView(id);
  if (view?.status === 'offered' && view.rep?.id === me.rep.id) return;
  card.stop();
  cards.delete(id);
  showOffersHint();
  if (view && onDesk(view)) openPanel(view);
}

// The transfer as it is now, or null if it is no longer this rep's.
async function currentView(id) {
  try {
    return await call('GET', `/v1/transfers/${encodeURIComponent(id)}`);
  } catch (error) {
    if (error.status === 404 || error.status === 409) return null;
    throw error;
  }
}

// An offer event: shown as a card while it is open; after a reload the stream replays old offers,
// so each is checked against the transfer's current state, which may put it on the desk instead.
async function place(kind, payload) {
  const id = payload.transfer_id;
  if (cards.has(id) || panels.has(id)) return;
  const view = await currentView(id);
  if (!view) return;
  if (view.status === 'offered' && Date.parse(view.offer_expires_at) > Date.now()) return offer(kind, payload, view);
  if (onDesk(view)) openPanel(view);
}

function offer(kind, payload, view) {
  const id = view.transfer_id;
  const card = new OfferCard({
    id, kind, payload, expiresAt: view.offer_expires_at,
    onAccepted: (accepted) => {
      cards.delete(id);
      showOffersHint();
      openPanel(accepted);
    },
    onClosed: (message, { expired } = {}) => {
      cards.delete(id);
      showOffersHint();
      say(message);
      if (expired) setTimeout(refreshMe, 2000); // an unanswered offer sets the rep away
    },
  });
  cards.set(id, card);
  $('offers').prepend(card.element);
  showOffersHint();
  if (document.activeElement === document.body) card.element.querySelector('.accept').focus();
}

function openPanel(view) {
  if (panels.has(view.transfer_id)) return; // accepted here and settled from the stream: one panel
  const panel = new TransferPanel({
    view,
    onClosed: (message) => {
      panels.delete(view.transfer_id);
      if (message) say(message);
    },
  });
  panels.set(view.transfer_id, panel);
  $('transfers').prepend(panel.element);
}

async function refreshMe() {
  if (!me) return;
  try {
    me = await call('GET', '/v1/reps/me');
    $('presence').value = me.presence;
  } catch (error) {
    say(describe(error));
  }
}

async function changePresence(status) {
  try {
    me = await call('PUT', `/v1/reps/${encodeURIComponent(me.rep.id)}/presence`, { status });
    say(t('presence.changed', { presence: t(`presence.${me.presence}`) }));
  } catch (error) {
    say(describe(error));
    $('presence').value = me.presence;
  }
}

$('sign-in').addEventListener('submit', (event) => {
  event.preventDefault();
  signIn($('key').value.trim());
});
$('sign-out').addEventListener('click', () => signOut());
$('presence').addEventListener('change', (event) => changePresence(event.target.value));

await useLocale(navigator.language);
const saved = sessionStorage.getItem(KEY);
if (saved) signIn(saved);
else signOut();
