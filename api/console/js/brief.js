// The transfer as the rep needs it after Accept, from GET /v1/transfers/{id}/brief; `track(item)` records usage.
import { h, list, onceVisible, section, uniqueId } from './dom.js';
import { formatTime, t } from './i18n.js';

export function renderSummary(brief, track) {
  const summary = section(t('brief.summary'), h('p', { class: 'summary' }, brief.summary));
  onceVisible(summary, () => track('summary_seen'));
  return summary;
}

export function renderDetails(brief, track) {
  const talking = section(t('brief.talking_points'), list(brief.talking_points));
  onceVisible(talking, () => track('talking_points_seen'));
  const unknown = brief.still_unknown.map((label) => t(`essential.${label}`, {}, label));
  return h('div', { class: 'brief-grid' },
    h('div', { class: 'column' },
      talking,
      section(t('brief.avoid'), list(brief.avoid, { class: 'avoid' })),
      section(t('brief.next_steps'), list(brief.next_steps),
        unknown.length ? h('p', { class: 'hint' }, t('brief.still_unknown', { items: unknown.join(', ') })) : null),
      profile(brief)),
    h('div', { class: 'column' },
      opener(brief.opener, track),
      checklist(brief.checklist, track),
      transcript(brief.context.conversation_transcript, track)));
}

function opener(text, track) {
  const quote = h('blockquote', { class: 'opener', tabindex: '-1' }, text);
  const done = h('span', { class: 'hint', role: 'status' });
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      done.textContent = t('brief.copied');
    } catch { // no clipboard permission: select the text so the rep can copy it by hand
      getSelection().selectAllChildren(quote);
      quote.focus();
      done.textContent = t('brief.copy_manual');
    }
    track('opener_copied');
  };
  return section(t('brief.opener'), quote,
    h('p', {}, h('button', { type: 'button', class: 'copy', onclick: copy }, t('brief.copy')), ' ', done));
}

function checklist(items, track) {
  return section(t('brief.checklist'), h('ul', { class: 'checklist' }, items.map((item, index) => {
    const id = uniqueId('check');
    const box = h('input', { type: 'checkbox', id, onchange: (event) => event.target.checked &&
      track(`checklist:${index + 1}`) });
    return h('li', {}, box, h('label', { for: id }, item));
  })));
}

function transcript(text, track) {
  const details = h('details', { class: 'block transcript' },
    h('summary', {}, t('brief.transcript')),
    text ? h('pre', {}, text) : h('p', { class: 'hint' }, t('brief.no_transcript')));
  details.addEventListener('toggle', () => details.open && track('transcript_expanded'));
  return details;
}

function profile(brief) {
  const prospect = brief.context.prospect;
  const fields = ['name', 'title', 'company', 'email', 'phone', 'timezone'].filter((field) => prospect[field]);
  const account = brief.account;
  return section(t('brief.profile'),
    h('dl', { class: 'fields' }, fields.map((field) => [h('dt', {}, t(`field.${field}`)), h('dd', {}, prospect[field])])),
    account ? [
      h('p', {}, t('brief.account', { id: account.account_id, field: t(`matched.${account.matched_by}`) })),
      account.history.length ? [h('h5', {}, t('brief.history')), h('ul', { class: 'history' }, account.history.map(
        (entry) => h('li', {}, h('time', { datetime: entry.at }, formatTime(entry.at)), ' · ',
          t('history.entry', { kind: historyKind(entry.kind), text: entry.text }))))] : null,
    ] : h('p', { class: 'hint' }, brief.crm_unavailable ? t('brief.crm_unavailable') : t('brief.no_account')));
}

// A CRM's kinds of activity (ours, HubSpot's, the built-in CRM's) as words; one we don't know, spelt out.
function historyKind(kind) {
  const words = kind.replaceAll('_', ' ');
  return t(`history.${kind}`, {}, words.charAt(0).toUpperCase() + words.slice(1));
}
