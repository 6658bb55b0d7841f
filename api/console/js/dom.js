// Elements are built with text nodes only, so prospect data can never become markup.
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'class') element.className = value;
    else element.setAttribute(name, value === true ? '' : value);
  }
  element.append(...children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

export function list(items, attributes = {}) {
  return h('ul', attributes, items.map((item) => h('li', {}, item)));
}

let ids = 0;
export function uniqueId(prefix) {
  ids += 1;
  return `${prefix}-${ids}`;
}

// A section with a heading, labelled for screen readers.
export function section(title, ...content) {
  const id = uniqueId('section');
  return h('section', { class: 'block', 'aria-labelledby': id }, h('h4', { id }, title), ...content);
}

// Runs `fn` once, the first time half the element (or half the screen, for a tall one) is in view.
export function onceVisible(element, fn) {
  const observer = new IntersectionObserver((entries) => {
    const seen = entries.some((entry) => entry.intersectionRatio >= 0.5 ||
      entry.intersectionRect.height >= window.innerHeight / 2);
    if (seen) {
      observer.disconnect();
      fn();
    }
  }, { threshold: [0, 0.25, 0.5, 0.75, 1] });
  observer.observe(element);
}

// A datetime-local value ("2025-03-01T14:30") as ISO 8601 with the browser's own offset.
export function isoWithOffset(localValue) {
  const date = new Date(localValue);
  const pad = (n) => String(Math.trunc(Math.abs(n))).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return `${localValue.length === 16 ? `${localValue}:00` : localValue}${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}

// Whether the keyboard focus is nowhere in particular (the page, or a heading it was put on), so a new offer or the
// next step of a transfer may take it.
export function atRest() {
  const active = document.activeElement;
  return !active || active === document.body || active.hasAttribute('data-rest');
}
