// UI strings in the rep's language. Prospect data is never translated: it shows as written.
let strings = {};
let fallback = {};
export let lang = 'en';

// The same rule as domain/scripts: Simplified Chinese for zh, zh-CN and zh-Hans; English otherwise.
export function languageOf(locale) {
  return ['zh', 'zh-cn', 'zh-hans'].includes((locale || '').replace('_', '-').toLowerCase()) ? 'zh' : 'en';
}

async function load(language) {
  const response = await fetch(`/console/i18n/${language}.json`);
  return response.json();
}

export async function useLocale(locale) {
  lang = languageOf(locale);
  fallback = Object.keys(fallback).length ? fallback : await load('en');
  strings = lang === 'en' ? fallback : await load(lang);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  for (const element of document.querySelectorAll('[data-i18n]')) element.textContent = t(element.dataset.i18n);
  document.title = t('app.title');
}

// t('offer.expired', {who: 'John'}); a key with no string gives `otherwise` (or the key itself).
export function t(key, values = {}, otherwise = key) {
  const template = strings[key] ?? fallback[key] ?? otherwise;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

export function formatTime(iso) {
  const options = { dateStyle: 'medium', timeStyle: 'short' };
  return new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en', options).format(new Date(iso));
}
