// The opening load of a big log: the lines already written come over HTTP in bulk ("<ms> <text>" per line,
// streamed), not line by line through Socket.IO; the live feed then follows from the last line received.
import { api } from './protocol.js';

/** Logs at least this long when the page opens load their backlog over HTTP. */
export const BULK_MIN_LINES = 2000;

/** Lines of `text` from `at` up to its last newline `end`, added to texts and times ("<ms> <text>" each). */
export function parseLines(text, at, end, texts = [], times = []) {
  while (at < end) {
    const nl = text.indexOf('\n', at);
    let ms = 0;
    let k = at;
    for (let c = text.charCodeAt(k); c >= 48 && c <= 57; c = text.charCodeAt(++k)) ms = ms * 10 + (c - 48);
    times.push(ms);
    texts.push(text.slice(k + 1, nl));  // a space follows the time
    at = nl + 1;
  }
  return [texts, times];
}

/**
 * Fetch a job's lines after `after` in bulk; onLines(texts, times) gets them in order, a chunk at a time.
 * Resolves to the seq of the last whole line received (never rejects: the live feed replays the rest).
 */
export async function loadBacklog(jobId, after, onLines) {
  let seq = after;
  try {
    const res = await fetch(`${api.backlog(jobId)}?after=${after}`, { credentials: 'same-origin' });
    if (!res.ok || !res.body) return seq;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let rest = '';  // a line cut by the chunk's end
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      // Rows keep slices of the joined text: a flat one-byte copy, which holds less than the decoder's chunk.
      const text = rest + value;
      const end = text.lastIndexOf('\n');
      rest = end < 0 ? text : text.slice(end + 1);
      if (end < 0) continue;
      const [texts, times] = parseLines(text, 0, end);
      onLines(texts, times);
      seq += texts.length;
    }
  } catch (e) {
    console.warn('backlog load stopped; the live feed replays the rest', e);
  }
  return seq;
}
