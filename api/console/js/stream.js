// The rep's server-sent events. EventSource cannot send an Authorization header, so the stream is
// read with fetch and parsed here; after a drop it resumes after the last event id it saw.
import { authorization } from './api.js';

const RETRY_MS = 1500;

export function openStream({ onEvent, onState, onRefused }) {
  const controller = new AbortController();
  let lastId = 0;
  (async () => {
    while (!controller.signal.aborted) {
      try {
        const response = await fetch(`/v1/reps/me/stream?after=${lastId}`, {
          headers: { ...authorization(), Accept: 'text/event-stream' }, signal: controller.signal,
        });
        if (response.status === 401 || response.status === 403) return onRefused();
        if (response.ok) {
          onState('live');
          await readEvents(response.body, (event) => {
            lastId = Number(event.id) || lastId;
            onEvent(event);
          });
        }
      } catch {
        if (controller.signal.aborted) return;
      }
      onState('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  })();
  return () => controller.abort();
}

async function readEvents(body, emit) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const blocks = (buffer + value).split(/\r\n\r\n|\n\n|\r\r/);
    buffer = blocks.pop();
    for (const block of blocks) {
      const event = parseBlock(block);
      if (event.data !== undefined) emit(event);
    }
  }
}

function parseBlock(block) {
  const event = { event: 'message' };
  for (const line of block.split(/\r\n|\n|\r/)) {
    if (!line || line.startsWith(':')) continue; // a comment: the server's keep-alive ping
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') event.data = event.data === undefined ? value : `${event.data}\n${value}`;
    else if (field === 'event' || field === 'id') event[field] = value;
  }
  return event;
}
