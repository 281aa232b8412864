// How each job state is shown outside the log: an icon, a colour, the tab title and the favicon.

export const STATE_ICON = Object.freeze({
  queued: '○', running: '●', succeeded: '✓', failed: '✗', cancelled: '⊘', lost: '?',
});

export const STATE_COLOUR = Object.freeze({
  queued: '#8c959f', running: '#bf8700', succeeded: '#1a7f37', failed: '#cf222e', cancelled: '#6e7781', lost: '#8250df',
});

/** "✓ demo #dad261b2": the state first, so a glance at the tab says it. */
export function tabTitle(job) {
  return `${STATE_ICON[job.state] || ''} ${job.task} #${job.id.slice(0, 8)}`.trim();
}

/** An SVG favicon (a data: URL) whose colour is the state's. */
export function faviconUrl(state) {
  const colour = STATE_COLOUR[state] || STATE_COLOUR.queued;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="${colour}"/>`
    + '<path d="M4.5 5.5 7 8l-2.5 2.5M8 11h3.5" stroke="#fff" stroke-width="1.6" fill="none" stroke-linecap="round"/></svg>';
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

/** Point the page's icon at the state's favicon. */
export function showFavicon(state) {
  const link = document.querySelector('link[rel="icon"]');
  if (link) link.href = faviconUrl(state);
}
