// The "hot transfer incoming" card: the alert's lines, a countdown, Accept / Defer / Schedule callback.
import { call, describe, serverNow } from './api.js';
import { h, isoWithOffset } from './dom.js';
import { formatTime, t } from './i18n.js';

export function prospectLabel(context, fallback) {
  const prospect = context?.prospect ?? {};
  return prospect.name || prospect.company || fallback;
}

function timeLeft(ms) {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

// Shows a button as busy while its request is out (an answer may take seconds while a worker restarts); `done()`
// puts its words back.
export function working(button) {
  if (!button) return () => {};
  const words = button.textContent;
  button.textContent = t('action.working');
  button.setAttribute('aria-busy', 'true');
  return () => {
    button.textContent = words;
    button.removeAttribute('aria-busy');
  };
}

export class OfferCard {
  // onAccepted(view) when the rep took it; onClosed(message) when it left the screen for any other reason. The
  // countdown runs on the server's clock; at 0 the card stays until the server says the offer is closed (close()).
  constructor({ id, kind, payload, expiresAt, onAccepted, onClosed }) {
    this.id = id;
    this.who = prospectLabel(payload.context, id);
    this.expiresAt = Date.parse(expiresAt);
    this.onAccepted = onAccepted;
    this.onClosed = onClosed;
    this.headline = h('h3', { id: `offer-${id}-title` });
    this.badge = h('span', { class: 'badge' });
    this.lines = h('ul', { class: 'alert-lines' });
    this.notes = h('ul', { class: 'notes' });
    this.countdown = h('span', { class: 'countdown' });
    this.meter = h('span', { class: 'meter' }, h('span', { class: 'meter-fill' }));
    this.error = h('p', { class: 'error', role: 'alert' });
    this.element = h('article', { class: 'card offer fresh', 'aria-labelledby': this.headline.id, 'data-transfer': id },
      h('header', { class: 'offer-head' }, this.headline, this.badge,
        kind === 'follow_up_due' ? h('span', { class: 'badge follow-up' }, followUpBadge(payload.follow_up)) : null),
      this.lines, this.notes,
      h('p', { class: 'expiry' }, this.countdown, this.meter),
      this.actions(), this.error);
    this.useAlert(payload.alert);
    this.total = Math.max(1, this.expiresAt - serverNow());
    this.tick();
    this.timer = setInterval(() => this.tick(), 250);
  }

  useAlert(alert) {
    this.headline.textContent = alert.headline;
    this.badge.textContent = t(`band.${alert.band}`);
    this.element.dataset.band = alert.band;
    this.lines.replaceChildren(...alert.lines.map((line) => h('li', {}, line)));
  }

  addNote(note) {
    this.notes.append(h('li', {}, t('note', { note })));
  }

  actions() {
    const colleague = h('select', { id: `defer-${this.id}`, name: 'defer_to' },
      h('option', { value: '' }, t('offer.anyone')));
    this.listColleagues(colleague);
    const when = h('input', { id: `callback-${this.id}`, name: 'callback_at', type: 'datetime-local' });
    return h('div', { class: 'offer-actions' },
      h('button', { type: 'button', class: 'primary accept', onclick: (event) => this.act({ action: 'accept' },
        event.currentTarget) }, t('offer.accept')),
      h('div', { class: 'inline-form' },
        h('label', { for: colleague.id }, t('offer.defer_to')), colleague,
        h('button', { type: 'button', onclick: (event) => this.act(
          { action: 'defer', ...(colleague.value && { defer_to: colleague.value }) }, event.currentTarget) },
        t('offer.defer'))),
      h('div', { class: 'inline-form' },
        h('label', { for: when.id }, t('offer.callback_at')), when,
        h('button', { type: 'button', onclick: (event) => this.scheduleCallback(when.value, event.currentTarget) },
          t('offer.callback'))));
  }

  // The pick list: teammates who can take it now, as Slack's card offers them; "whoever is free first" without one.
  async listColleagues(select) {
    try {
      const colleagues = await call('GET', '/v1/reps/me/colleagues');
      select.append(...colleagues.map(({ rep }) => h('option', { value: rep.id },
        rep.title ? `${rep.name} (${rep.title})` : rep.name)));
    } catch (error) {
      this.error.textContent = describe(error);
    }
  }

  scheduleCallback(localValue, button) {
    if (!localValue) {
      this.error.textContent = t('offer.callback_needed');
      return;
    }
    this.act({ action: 'schedule_callback', callback_at: isoWithOffset(localValue) }, button);
  }

  async act(body, button) {
    this.error.textContent = '';
    for (const each of this.element.querySelectorAll('button')) each.disabled = true;
    const done = working(button);
    try {
      const view = await call('POST', `/v1/transfers/${encodeURIComponent(this.id)}/rep`, body);
      this.stop();
      if (body.action === 'accept') return this.onAccepted(view);
      this.onClosed(body.action === 'defer' ? t('offer.deferred', { who: this.who })
        : t('offer.callback_booked', { who: this.who, when: formatTime(body.callback_at) }));
    } catch (error) {
      done();
      this.error.textContent = describe(error);
      for (const each of this.element.querySelectorAll('button')) each.disabled = false;
    }
  }

  // A new offer of the same transfer to this rep (the stream replayed an old one): its expiry.
  expireAt(expiresAt) {
    this.expiresAt = Date.parse(expiresAt);
    this.tick();
  }

  tick() {
    const left = this.expiresAt - serverNow();
    this.countdown.textContent = left > 0 ? t('offer.expires_in', { time: timeLeft(left) }) : t('offer.expiring');
    this.meter.firstChild.style.width = `${Math.max(0, Math.min(100, (100 * left) / this.total))}%`;
  }

  stop() {
    clearInterval(this.timer);
    this.element.remove();
  }
}

// A follow-up says how to reach the prospect: a call to make or an e-mail to write, and where.
function followUpBadge(followUp) {
  const contact = followUp?.channel === 'phone' ? followUp.phone : followUp?.email;
  return contact ? t(`offer.follow_up_${followUp.channel}`, { contact }) : t('offer.follow_up');
}
