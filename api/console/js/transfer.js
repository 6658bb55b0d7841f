// One accepted transfer: the brief, then Taking over, the outcome and the rep's feedback.
import { renderDetails, renderSummary } from './brief.js';
import { call, describe } from './api.js';
import { atRest, h } from './dom.js';
import { t } from './i18n.js';
import { prospectLabel, working } from './offer.js';

const OUTCOMES = ['converted', 'demo_booked', 'nurture', 'lost'];
// While the rep can act on it, the view is looked at again this often: taking over in another tab, and the prospect
// leaving a conversation, reach the rep's stream as no event of their own.
const WATCH_MS = 5000;
const FOLLOW_UPS = ['callback_scheduled', 'email_follow_up', 'async_follow_up'];
// The workflow's timeline entries (written in English for ops) the console recognises.
const REP_FEEDBACK = 'Feedback from the rep';
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
  constructor({ view, onClosed, onStatus = () => {} }) {
    this.id = view.transfer_id;
    this.path = `/v1/transfers/${encodeURIComponent(this.id)}`;
    this.who = this.id;
    this.onClosed = onClosed;
    this.onStatus = onStatus; // told each status the panel shows
    this.tracked = new Set();
    this.noted = new Set(); // the prospect's notes on show, once each
    this.shown = null; // the stage on show: the status it is for
    this.title = h('h3', { id: `transfer-${this.id}-title` }, this.id);
    this.status = h('p', { class: 'status' });
    this.notes = h('ul', { class: 'notes' });
    this.news = h('p', { class: 'news', role: 'status' });
    this.error = h('p', { class: 'error', role: 'alert' });
    this.stage = h('div', { class: 'stage' });
    this.body = h('div', { class: 'brief' }, h('p', { class: 'hint' }, t('brief.loading')));
    this.element = h('article', { class: 'card transfer', 'aria-labelledby': this.title.id, 'data-transfer': this.id },
      h('header', {}, this.title, this.status), this.news, this.notes, this.error, this.body);
    this.show(view);
    this.load();
    this.onVisible = () => { if (document.visibilityState === 'visible') this.refresh(); };
    document.addEventListener('visibilitychange', this.onVisible);
  }

  async load() {
    try {
      const brief = await call('GET', `${this.path}/brief`);
      const prospect = brief.context.prospect;
      this.who = prospectLabel(brief.context, this.id);
      this.title.textContent = [this.who, [prospect.title, prospect.company].filter(Boolean).join(' @ ')]
        .filter(Boolean).join(' · ');
      const track = (item) => this.track(item);
      // The prospect's notes are listed once, above: the talking points leave out those they repeat.
      const notes = brief.context.prospect_notes.map((note) => note.trim()).filter(Boolean);
      notes.forEach((note) => this.addNote(note));
      const points = brief.talking_points.filter((point) => !notes.some((note) => point.endsWith(note)));
      this.body.replaceChildren(renderSummary(brief, track), this.stage,
        renderDetails({ ...brief, talking_points: points }, track));
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
    const text = note.trim();
    if (!text || this.noted.has(text)) return;
    this.noted.add(text);
    this.notes.append(h('li', {}, t('note', { note: text })));
  }

  // The transfer as it is now (null: no longer this rep's), from the stream's news or a look of our own: the status,
  // what happened, and only the actions still possible.
  follow(view) {
    if (this.stopped) return;
    if (!view) {
      this.error.textContent = '';
      this.status.textContent = '';
      this.shown = 'gone';
      this.stage.replaceChildren(...this.ended(t('transfer.ended.gone')));
      this.watch(false);
      return;
    }
    this.show(view);
  }

  async refresh() {
    try {
      this.follow(await call('GET', this.path));
    } catch (error) {
      if (error.status === 404) this.follow(null);
      else this.watch(this.watching); // the server did not answer: look again later
    }
  }

  // Looks at the view every WATCH_MS while the rep has something to do on it.
  watch(on) {
    clearTimeout(this.timer);
    this.watching = on && !this.stopped;
    if (this.watching) this.timer = setTimeout(() => this.refresh(), WATCH_MS);
  }

  show(view) {
    const timeline = view.timeline ?? [];
    const left = view.status === 'connected' &&
      timeline.some((entry) => entry.status === 'connected' && entry.kind === 'left');
    this.onStatus(view.status);
    const status = left ? t('status.connected_left') : t(`status.${view.status}`);
    this.status.textContent = t('transfer.status', { status });
    this.news.textContent = left ? t('transfer.prospect_left') : '';
    this.watch(['connecting', 'connected'].includes(view.status));
    let stage = view.status;
    if (stage === 'completed' && (this.shown === 'done' || timeline.some((entry) => entry.detail === REP_FEEDBACK))) {
      stage = 'done';
    }
    if (stage === this.shown) return; // nothing new to do: a form half filled in stays as it is
    this.shown = stage;
    this.error.textContent = '';
    const over = (key) => () => this.ended(t(`transfer.ended.${key}`));
    const stages = {
      connecting: () => this.takeOver(),
      connected: () => this.outcome(),
      completed: () => this.feedback(),
      done: over('done'),
      recovering: over('recovering'),
      cancelled: over('left'),
      abandoned: over('left'),
      ...Object.fromEntries(FOLLOW_UPS.map((status) => [status, over('follow_up')])),
    };
    this.stage.replaceChildren(...(stages[stage] ?? over('gone'))());
    this.focusStage();
  }

  // Nothing more to do here: what became of it, and Close.
  ended(message) {
    return [h('p', { role: 'status' }, message),
      h('button', { type: 'button', onclick: () => this.close() }, t('transfer.dismiss'))];
  }

  // Keyboard users land on the next step, unless they are busy elsewhere on the page.
  focusStage() {
    if (atRest() || this.element.contains(document.activeElement)) this.stage.querySelector('button, input')?.focus();
  }

  async act(path, body, button) {
    this.error.textContent = '';
    const buttons = [...this.stage.querySelectorAll('button')];
    buttons.forEach((each) => { each.disabled = true; });
    const done = working(button);
    try {
      return await call('POST', `${this.path}/${path}`, body);
    } catch (error) {
      done();
      buttons.forEach((each) => { each.disabled = false; });
      this.error.textContent = describe(error);
      // Not possible now: the transfer moved on (another tab, a timeout); show where it is instead.
      if ([404, 409].includes(error.status)) await this.refresh();
      return null;
    }
  }

  takeOver() {
    const take = async (event) => {
      const view = await this.act('rep', { action: 'ack' }, event.currentTarget);
      if (view) this.show(view);
    };
    return [h('button', { type: 'button', class: 'primary', onclick: take }, t('transfer.take_over')),
      h('p', { class: 'hint' }, t('transfer.take_over_hint'))];
  }

  outcome() {
    const record = async (outcome, button) => {
      const view = await this.act('rep', { action: 'outcome', outcome }, button);
      if (!view) return;
      setPendingFeedback(this.id, true);
      this.show(view);
    };
    return [h('fieldset', { class: 'outcomes' }, h('legend', {}, t('transfer.outcome')),
      OUTCOMES.map((outcome) => h('button', { type: 'button', 'data-outcome': outcome, onclick: (event) => record(outcome, event.currentTarget) },
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
      }, event.submitter);
      if (!view) return;
      setPendingFeedback(this.id, false);
      this.shown = 'done';
      this.stage.replaceChildren(...this.ended(t('feedback.thanks', { who: this.who })));
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

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    document.removeEventListener('visibilitychange', this.onVisible);
    this.element.remove();
  }

  close(message) {
    this.stop();
    setPendingFeedback(this.id, false);
    this.onClosed(message);
  }
}
