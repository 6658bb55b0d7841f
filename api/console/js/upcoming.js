// "Coming up": the rep's open follow-ups (callbacks, e-mails to write), soonest first, as the rep's calendar feed
// lists them. Times show in this browser's locale and time zone, with the day.
import { call, describe } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';

const REREAD_MS = 3 * 60 * 1000;
const WHEN = { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' };

export function formatDue(iso) {
  return new Intl.DateTimeFormat(navigator.languages?.length ? [...navigator.languages] : undefined, WHEN)
    .format(new Date(iso));
}

export class Upcoming {
  constructor({ list, empty, error }) {
    this.list = list;
    this.empty = empty;
    this.error = error;
    this.ids = new Set(); // the transfers listed: news of one of them may close its follow-up
    this.asked = 0; // answers to an older request than the last are dropped
    this.timer = 0;
    // A follow-up can also end with no news to this rep (called off in Temporal, taken by a colleague): the list is
    // read again every few minutes, and whenever the tab is looked at again.
    document.addEventListener('visibilitychange', () => {
      if (this.timer && document.visibilityState === 'visible') this.refresh();
    });
  }

  start() {
    clearInterval(this.timer);
    this.timer = setInterval(() => { if (document.visibilityState === 'visible') this.refresh(); }, REREAD_MS);
    this.refresh();
  }

  has(transferId) {
    return this.ids.has(transferId);
  }

  async refresh() {
    const asked = ++this.asked;
    let followUps;
    try {
      followUps = await call('GET', '/v1/reps/me/follow-ups');
    } catch (error) {
      if (asked === this.asked) this.error.textContent = describe(error);
      return;
    }
    if (asked !== this.asked) return;
    this.error.textContent = '';
    this.show(followUps);
  }

  show(followUps) {
    this.ids = new Set(followUps.map((followUp) => followUp.transfer_id));
    this.empty.hidden = followUps.length > 0;
    this.list.replaceChildren(...followUps.map((followUp) => h('li', { 'data-transfer': followUp.transfer_id },
      h('time', { datetime: followUp.due_at }, formatDue(followUp.due_at)),
      h('span', { class: 'who' }, followUp.prospect),
      h('span', { class: `badge kind-${followUp.kind}` }, t(`upcoming.${followUp.kind}`, {}, followUp.kind)))));
  }

  clear() {
    clearInterval(this.timer);
    this.timer = 0;
    this.asked += 1;
    this.ids.clear();
    this.list.replaceChildren();
    this.error.textContent = '';
    this.empty.hidden = false;
  }
}
