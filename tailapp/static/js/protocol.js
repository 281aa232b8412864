// Names shared with the server; the one source of truth is docs/PROTOCOL.md.

export const NAMESPACE = '/tail';

export const EVENTS = Object.freeze({
  SUBSCRIBE: 'subscribe',
  UNSUBSCRIBE: 'unsubscribe',
  WATCH_JOBS: 'watch_jobs',
  LINES: 'lines',
  JOB: 'job',
  RESYNC: 'resync',
});

export const STATES = Object.freeze(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'lost']);
export const TERMINAL_STATES = Object.freeze(['succeeded', 'failed', 'cancelled', 'lost']);

/** True when a job in `state` will not change any more. */
export function isTerminal(state) {
  return TERMINAL_STATES.includes(state);
}

export const api = Object.freeze({
  jobs: () => '/api/jobs',
  job: (id) => `/api/jobs/${encodeURIComponent(id)}`,
  log: (id) => `/api/jobs/${encodeURIComponent(id)}/log`,
  backlog: (id) => `/api/jobs/${encodeURIComponent(id)}/backlog`,
  cancel: (id) => `/api/jobs/${encodeURIComponent(id)}/cancel`,
  restart: (id) => `/api/jobs/${encodeURIComponent(id)}/restart`,
  page: (id) => `/jobs/${encodeURIComponent(id)}`,
});
