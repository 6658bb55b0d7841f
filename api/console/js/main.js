// The rep console: sign in with a rep key, presence, live offers from the stream, accepted transfers.
import { call, describe, useKey } from './api.js';
import { atRest } from './dom.js';
import { formatTime, t, useLocale } from './i18n.js';
import { OfferCard, prospectLabel } from './offer.js';
import { openStream } from './stream.js';
import { onDesk, TransferPanel } from './transfer.js';
import { Upcoming } from './upcoming.js';

const KEY = 'wt.repKey';
const TOLD = 'wt.toldUpTo'; // the id of the last stream event whose message the rep was shown, in this tab
const $ = (id) => document.getElementById(id);
const cards = new Map(); // transfer id -> OfferCard
const panels = new Map(); // transfer id -> TransferPanel
let me = null;
let stopStream = () => {};
let events = Promise.resolve(); // events are handled one at a time, in stream order
let told = 0;
const upcoming = new Upcoming({ list: $('upcoming'), empty: $('no-upcoming'), error: $('upcoming-error') });

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
  told = Number(sessionStorage.getItem(TOLD)) || 0;
  await useLocale(me.rep.locale);
  $('rep-name').textContent = me.rep.name;
  showPresence(me.presence);
  $('sign-in').hidden = true;
  $('rep-bar').hidden = false;
  $('desk').hidden = false;
  showOffersHint();
  upcoming.start();
  $('offers-heading').focus(); // the sign-in form is gone: keyboard and screen reader users start at the desk
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
  for (const panel of panels.values()) panel.stop();
  cards.clear();
  panels.clear();
  upcoming.clear();
  $('messages').replaceChildren();
  $('rep-bar').hidden = true;
  $('desk').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message ?? '';
  $('key').value = '';
  $('key').focus();
  told = 0;
  useLocale(navigator.language); // the next person signs in in the browser's language, not the last rep's
}

async function handle({ event, data, id }) {
  const payload = JSON.parse(data);
  // The stream starts from its first event at each load: what was told before is not told again.
  const seq = Number(id) || 0;
  await react(event, payload, seq > told ? say : () => {});
  if (seq > told) {
    told = seq;
    sessionStorage.setItem(TOLD, String(told));
  }
}

async function react(event, payload, tell) {
  const id = payload.transfer_id;
  // Coming up follows the follow-ups: one scheduled, and any news of one listed (it came due, was taken, called off).
  if (event === 'follow_up_scheduled' || upcoming.has(id)) upcoming.refresh();
  const card = cards.get(id);
  const panel = panels.get(id);
  if (event === 'offer' || event === 'follow_up_due') return place(event, payload);
  if (event === 'note') return (card ?? panel)?.addNote(payload.note);
  if (event === 'offer_closed') return settle(id, payload, tell);
  if (event === 'withdrawn' && (card || panel)) {
    card?.stop();
    cards.delete(id);
    panel?.close();
    showOffersHint();
    return tell(t('withdrawn', { who: (card ?? panel).who, reason: payload.reason }));
  }
  // Any other news of a transfer (recovery, a follow-up, the feedback request): its view on the desk follows it.
  // Notices matter while the transfer is still in the state they announce; a replayed old one is skipped.
  const view = await currentView(id);
  panel?.follow(view);
  const who = prospectLabel(payload.context, id);
  if (event === 'recovery' && view?.status === 'recovering') tell(t('recovery', { who }));
  if (event === 'follow_up_scheduled' && view?.follow_up_at) {
    tell(t('follow_up_scheduled', { who, when: formatTime(view.follow_up_at) }));
  }
}

// An offer closed: by the rep's answer here or elsewhere (in Slack), or it lapsed, as the server says; one accepted
// elsewhere goes on the desk. Checked against the transfer's current state, as the stream replays old notices after
// a reload, and the transfer may have been offered to this rep again since.
async function settle(id, payload, tell) {
  const card = cards.get(id);
  if (!card || payload.outcome === 'withdrawn') return; // the `withdrawn` notice that follows says why
  const view = await currentView(id);
  if (view?.status === 'offered' && view.rep?.id === me.rep.id) {
    card.expireAt(view.offer_expires_at);
    return;
  }
  card.stop();
  cards.delete(id);
  showOffersHint();
  if (view && onDesk(view)) openPanel(view);
  if (payload.outcome === 'expired') {
    tell(t('offer.expired', { who: card.who }));
    setTimeout(refreshMe, 1000); // an unanswered offer sets the rep away
  }
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

// An offer event: shown as a card while it is open (whatever this computer's clock says: the server closes it);
// after a reload the stream replays old offers, so each is checked against the transfer's current state, which may
// put it on the desk instead.
async function place(kind, payload) {
  const id = payload.transfer_id;
  if (cards.has(id)) return;
  const view = await currentView(id);
  if (!view || cards.has(id)) return;
  if (view.status === 'offered' && (!view.rep || view.rep.id === me.rep.id)) {
    // A follow-up's panel ("it comes back as an offer when due") gives way to that offer.
    panels.get(id)?.stop();
    panels.delete(id);
    return offer(kind, payload, view);
  }
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
    onClosed: (message) => {
      cards.delete(id);
      showOffersHint();
      say(message);
    },
  });
  cards.set(id, card);
  $('offers').prepend(card.element);
  showOffersHint();
  if (atRest()) card.element.querySelector('.accept').focus();
}

function openPanel(view) {
  if (panels.has(view.transfer_id)) return; // accepted here and settled from the stream: one panel
  const panel = new TransferPanel({
    view,
    // A follow-up is done once the rep takes over: it leaves Coming up.
    onStatus: (status) => { if (status === 'connected' && upcoming.has(view.transfer_id)) upcoming.refresh(); },
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
    showPresence(me.presence);
  } catch (error) {
    say(describe(error));
  }
}

// Presence is a row of buttons, one pressed: moving along them with the keyboard changes nothing until one is
// pressed (a select's arrow keys would set each presence in turn).
function showPresence(presence) {
  $('presence').dataset.value = presence;
  for (const button of $('presence').querySelectorAll('button')) {
    button.setAttribute('aria-pressed', String(button.dataset.presence === presence));
  }
}

async function changePresence(status) {
  if (status === me.presence) return;
  try {
    me = await call('PUT', `/v1/reps/${encodeURIComponent(me.rep.id)}/presence`, { status });
    say(t('presence.changed', { presence: t(`presence.${me.presence}`) }));
  } catch (error) {
    say(describe(error));
  }
  showPresence(me.presence);
}

$('sign-in').addEventListener('submit', (event) => {
  event.preventDefault();
  signIn($('key').value.trim());
});
$('sign-out').addEventListener('click', () => signOut());
$('presence').addEventListener('click', (event) => {
  const button = event.target.closest('button[data-presence]');
  if (button) changePresence(button.dataset.presence);
});

await useLocale(navigator.language);
const saved = sessionStorage.getItem(KEY);
if (saved) signIn(saved);
else signOut();
