// The API with the rep's key; an error answer ({"error": {"code", "message"}}) becomes an ApiError.
import { t } from './i18n.js';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let key = null;
let onUnauthorized = () => {};
// The server's clock minus this computer's, in ms, from the HTTP Date header of the quickest answer seen: offer
// countdowns run on the server's time, however wrong the rep's clock is. Date is whole seconds, so +500 ms.
let clockOffset = 0;
let offsetRoundTrip = Infinity;

function learnClock(response, sent, received) {
  const date = Date.parse(response.headers.get('Date') ?? '');
  const roundTrip = received - sent;
  if (Number.isNaN(date) || roundTrip > offsetRoundTrip + 250) return;
  clockOffset = date + 500 - (sent + received) / 2;
  offsetRoundTrip = Math.min(offsetRoundTrip, roundTrip);
}

// Now, on the server's clock (ms since the epoch), as well as this browser can tell.
export function serverNow() {
  return Date.now() + clockOffset;
}

export function useKey(newKey, whenRefused) {
  key = newKey;
  onUnauthorized = whenRefused;
}

export function authorization() {
  return { Authorization: `Bearer ${key}` };
}

export async function call(method, path, body) {
  const headers = { ...authorization(), Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  const sent = Date.now();
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network', '');
  }
  learnClock(response, sent, Date.now());
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (response.ok) return data;
  const error = new ApiError(response.status, data.error?.code ?? 'other', data.error?.message ?? response.statusText);
  if (response.status === 401) onUnauthorized(error);
  throw error;
}

// What the rep reads when something fails: plain words, with the server's reason where it helps.
export function describe(error) {
  if (!(error instanceof ApiError)) return t('error.other', { message: String(error.message || error) });
  const known = ['network', 'unauthorized', 'forbidden', 'not_found', 'rejected', 'closed', 'conflict',
    'invalid_request'];
  return t(`error.${known.includes(error.code) ? error.code : 'other'}`, { message: error.message });
}
