// The "hot transfer incoming" card: the alert's lines, a countdown, Accept / Defer / Schedule callback.
import { call, describe } from './api.js';
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

export class OfferCard {
  // onAccepted(view) when the rep took it; onClosed(message) when it left the screen for any other reason.
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
        kind === 'follow_up_due' ? h('span', { class: 'badge follow-up' }, t('offer.follow_up')) : null),
      this.lines, this.notes,
      h('p', { class: 'expiry' }, this.countdown, this.meter),
      this.actions(), this.error);
    this.useAlert(payload.alert);
    this.total = Math.max(1, this.expiresAt - Date.now());
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
      h('button', { type: 'button', class: 'primary accept', onclick: () => this.act({ action: 'accept' }) },
        t('offer.accept')),
      h('div', { class: 'inline-form' },
        h('label', { for: colleague.id }, t('offer.defer_to')), colleague,
        h('button', { type: 'button', onclick: () => this.act(
          { action: 'defer', ...(colleague.value && { defer_to: colleague.value }) }) },
        t('offer.defer'))),
      h('div', { class: 'inline-form' },
        h('label', { for: when.id }, t('offer.callback_at')), when,
        h('button', { type: 'button', onclick: () => this.scheduleCallback(when.value) }, t('offer.callback'))));
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

  scheduleCallback(localValue) {
    if (!localValue) {
      this.error.textContent = t('offer.callback_needed');
      return;
    }
    this.act({ action: 'schedule_callback', callback_at: isoWithOffset(localValue) });
  }

  async act(body) {
    this.error.textContent = '';
    for (const button of this.element.querySelectorAll('button')) button.disabled = true;
    try {
      const view = await call('POST', `/v1/transfers/${encodeURIComponent(this.id)}/rep`, body);
      this.stop();
      if (body.action === 'accept') return this.onAccepted(view);
      this.onClosed(body.action === 'defer' ? t('offer.deferred', { who: this.who })
        : t('offer.callback_booked', { who: this.who, when: formatTime(body.callback_at) }));
    } catch (error) {
      this.error.textContent = describe(error);
      for (const button of this.element.querySelectorAll('button')) button.disabled = false;
    }
  }

  tick() {
    const left = this.expiresAt - Date.now();
    if (left <= 0) {
      this.stop();
      this.onClosed(t('offer.expired', { who: this.who }), { expired: true });
      return;
    }
    this.countdown.textContent = t('offer.expires_in', { time: timeLeft(left) });
    this.meter.firstChild.style.width = `${Math.min(100, (100 * left) / this.total)}%`;
  }

  stop() {
    clearInterval(this.timer);
    this.element.remove();
  }
}
