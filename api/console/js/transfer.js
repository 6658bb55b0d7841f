// One accepted transfer: the brief, then Taking over, the outcome and the rep's feedback.
import { renderDetails, renderSummary } from './brief.js';
import { call, describe } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { prospectLabel } from './offer.js';

const OUTCOMES = ['converted', 'demo_booked', 'nurture', 'lost'];
const PENDING_FEEDBACK = 'wt.pendingFeedback'; // transfers whose feedback form must survive a reload

function pendingFeedback() {
  return new Set(JSON.parse(sessionStorage.getItem(PENDING_FEEDBACK) || '[]'));
}

function setPendingFeedback(id, pending) {
  const ids = pendingFeedback();
  if (pending) ids.add(id);
  else ids.delete(id);
  sessionStorage.setItem(PENDING_FEEDBACK, JSON.stringify([...ids]));
}

// Whether a transfer in this state belongs on the rep's desk (e.g. after a reload).
export function onDesk(view) {
  return ['connecting', 'connected'].includes(view.status) ||
    (view.status === 'completed' && pendingFeedback().has(view.transfer_id));
}

export class TransferPanel {
  constructor({ view, onClosed }) {
    this.id = view.transfer_id;
    this.path = `/v1/transfers/${encodeURIComponent(this.id)}`;
    this.who = this.id;
    this.onClosed = onClosed;
    this.tracked = new Set();
    this.title = h('h3', { id: `transfer-${this.id}-title` }, this.id);
    this.status = h('p', { class: 'status' });
    this.notes = h('ul', { class: 'notes' });
    this.error = h('p', { class: 'error', role: 'alert' });
    this.stage = h('div', { class: 'stage' });
    this.body = h('div', { class: 'brief' }, h('p', { class: 'hint' }, t('brief.loading')));
    this.element = h('article', { class: 'card transfer', 'aria-labelledby': this.title.id, 'data-transfer': this.id },
      h('header', {}, this.title, this.status), this.notes, this.error, this.body);
    this.show(view);
    this.load();
  }

  async load() {
    try {
      const brief = await call('GET', `${this.path}/brief`);
      const prospect = brief.context.prospect;
      this.who = prospectLabel(brief.context, this.id);
      this.title.textContent = [this.who, [prospect.title, prospect.company].filter(Boolean).join(' @ ')]
        .filter(Boolean).join(' · ');
      const track = (item) => this.track(item);
      this.body.replaceChildren(renderSummary(brief, track), this.stage, renderDetails(brief, track));
      this.focusStage();
    } catch (error) {
      this.error.textContent = describe(error);
    }
  }

  track(item) {
    if (this.tracked.has(item)) return;
    this.tracked.add(item);
    // Measurement only: a failure is not the rep's problem, and the item is sent again next time.
    call('POST', `${this.path}/usage`, { item }).catch(() => this.tracked.delete(item));
  }

  addNote(note) {
    this.notes.append(h('li', {}, t('note', { note })));
  }

  show(view) {
    this.status.textContent = t('transfer.status', { status: t(`status.${view.status}`) });
    const stages = { connecting: () => this.takeOver(), connected: () => this.outcome(), completed: () => this.feedback() };
    this.stage.replaceChildren(...(stages[view.status]?.() ?? []));
    this.focusStage();
  }

  // Keyboard users land on the next step, unless they are busy elsewhere on the page.
  focusStage() {
    const active = document.activeElement;
    if (active === document.body || this.element.contains(active)) this.stage.querySelector('button, input')?.focus();
  }

  async act(path, body) {
    this.error.textContent = '';
    const buttons = [...this.stage.querySelectorAll('button')];
    buttons.forEach((button) => { button.disabled = true; });
    try {
      return await call('POST', `${this.path}/${path}`, body);
    } catch (error) {
      this.error.textContent = describe(error);
      buttons.forEach((button) => { button.disabled = false; });
      return null;
    }
  }

  takeOver() {
    const take = async () => {
      const view = await this.act('rep', { action: 'ack' });
      if (view) this.show(view);
    };
    return [h('button', { type: 'button', class: 'primary', onclick: take }, t('transfer.take_over')),
      h('p', { class: 'hint' }, t('transfer.take_over_hint'))];
  }

  outcome() {
    const record = async (outcome) => {
      const view = await this.act('rep', { action: 'outcome', outcome });
      if (!view) return;
      setPendingFeedback(this.id, true);
      this.show(view);
    };
    return [h('fieldset', { class: 'outcomes' }, h('legend', {}, t('transfer.outcome')),
      OUTCOMES.map((outcome) => h('button', { type: 'button', 'data-outcome': outcome, onclick: () => record(outcome) },
        t(`outcome.${outcome}`))))];
  }

  feedback() {
    const yesNo = (name, legend) => h('fieldset', {}, h('legend', {}, legend),
      ['yes', 'no'].map((answer) => h('label', { class: 'choice' },
        h('input', { type: 'radio', name, value: answer, required: true }), t(`feedback.${answer}`))));
    const send = async (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      const view = await this.act('feedback', {
        from: 'rep',
        context_helpful: form.get('helpful') === 'yes',
        prospect_repeated: form.get('repeated') === 'yes',
        missing: String(form.get('missing')).split(/[,,]/).map((tag) => tag.trim()).filter(Boolean),
        improve: String(form.get('improve')).trim() || null,
      });
      if (!view) return;
      setPendingFeedback(this.id, false);
      this.stage.replaceChildren(h('p', { role: 'status' }, t('feedback.thanks', { who: this.who })),
        h('button', { type: 'button', onclick: () => this.close() }, t('transfer.dismiss')));
      this.focusStage();
    };
    const missingId = `missing-${this.id}`;
    const improveId = `improve-${this.id}`;
    return [h('form', { class: 'feedback', onsubmit: send },
      h('h4', {}, t('feedback.heading')),
      yesNo('helpful', t('feedback.helpful')),
      h('label', { for: missingId }, t('feedback.missing')),
      h('input', { id: missingId, name: 'missing', autocomplete: 'off' }),
      yesNo('repeated', t('feedback.repeated')),
      h('label', { for: improveId }, t('feedback.improve')),
      h('textarea', { id: improveId, name: 'improve', rows: '3', maxlength: '2000' }),
      h('button', { type: 'submit', class: 'primary' }, t('feedback.send')))];
  }

  close(message) {
    this.element.remove();
    this.onClosed(message);
  }
}
