// The job's live feed over Socket.IO: subscribe from the last line shown, on every (re)connect.
import { io } from '../../vendor/socket.io-client/dist/socket.io.esm.min.js';
import { EVENTS, NAMESPACE } from './protocol.js';

const RESUMED_SHOWN_MS = 4000;
const RETRY_FIRST_MS = 250;   // first wait before asking again after a retryable subscribe refusal
const RETRY_MAX_MS = 5000;

/** Open the /tail namespace (one socket per page). */
export function openSocket() {
  return io(NAMESPACE, { transports: ['websocket', 'polling'] });
}

/**
 * Follows one job. Callbacks: onLines(lines, times, firstSeq), onJob(job), onStatus(status) where
 * status is "connecting", "live", "reconnecting" or "resumed". `ready` (optional) is a promise of the seq
 * of the last line the page already has (a bulk backlog load): no subscribe goes out before it settles.
 */
export class JobFeed {
  constructor(socket, jobId, { onLines, onJob, onStatus, onError, ready }) {
    this.socket = socket;
    this.jobId = jobId;
    this.last = 0;              // seq of the last line handed to onLines
    this.ready = (ready || Promise.resolve(0)).then((seq) => { this.last = Math.max(this.last, seq); });
    this.cb = { onLines, onJob, onStatus: onStatus || (() => {}), onError: onError || (() => {}) };
    this.everConnected = false;
    this.resubscribing = false;
    this.statusTimer = 0;
    this.retryTimer = 0;
    this.attempt = 0;           // which subscribe() is current: acks of earlier ones are ignored
    socket.on('connect', () => this.onConnect());
    socket.on('disconnect', () => this.setStatus('reconnecting'));
    socket.io.on('reconnect_attempt', () => this.setStatus('reconnecting'));
    socket.on(EVENTS.LINES, (msg) => this.onLinesEvent(msg));
    socket.on(EVENTS.JOB, (job) => { if (job && job.id === this.jobId) this.cb.onJob(job); });
    socket.on(EVENTS.RESYNC, (msg) => { if (msg && msg.job === this.jobId) this.follow(true); });
    this.setStatus('connecting');
    if (socket.connected) this.onConnect();
  }

  onConnect() {
    const resumed = this.everConnected;
    this.everConnected = true;
    this.follow(resumed);
  }

  /** Subscribe from the last line; show "live", or "resumed" for a while when the feed came back. */
  follow(resumed) {
    this.ready.then(() => this.subscribe()).then((ok) => {
      if (!ok) return;
      this.setStatus(resumed ? 'resumed' : 'live');
      if (resumed) this.statusTimer = setTimeout(() => this.setStatus('live'), RESUMED_SHOWN_MS);
    });
  }

  /** Ask for every line after the last one shown; resolves to whether the server accepted. */
  subscribe() {
    clearTimeout(this.retryTimer);
    this.resubscribing = true;
    const attempt = ++this.attempt;
    return new Promise((resolve) => this.ask(resolve, RETRY_FIRST_MS, attempt));
  }

  /** One subscribe request. A refusal marked `retry` (Redis restarting or loading) is asked again later,
   *  from the last line shown then, with a growing delay; a new subscribe() replaces this one. */
  ask(resolve, delay, attempt) {
    this.socket.emit(EVENTS.SUBSCRIBE, { job: this.jobId, after: this.last }, (ack) => {
      if (attempt !== this.attempt) return;  // a later subscribe() took over (the server keeps only it)
      if (ack && ack.ok) {
        this.resubscribing = false;
        if (ack.job) this.cb.onJob(ack.job);
        resolve(true);
      } else if (ack && ack.retry) {
        this.setStatus('reconnecting');
        this.retryTimer = setTimeout(() => this.ask(resolve, Math.min(delay * 2, RETRY_MAX_MS), attempt), delay);
      } else {
        this.resubscribing = false;
        this.cb.onError((ack && ack.error) || 'subscribe failed');
        resolve(false);
      }
    });
  }

  onLinesEvent(msg) {
    if (!msg || msg.job !== this.jobId || !Array.isArray(msg.lines)) return;
    let { seq, lines, times } = msg;
    if (seq > this.last + 1) {
      // A gap: lines went missing on the way. Ask again from what we have; duplicates are dropped below.
      if (!this.resubscribing) this.subscribe();
      return;
    }
    const skip = this.last + 1 - seq;   // lines we already have (seq <= last)
    if (skip >= lines.length) return;
    if (skip > 0) { lines = lines.slice(skip); times = times && times.slice(skip); seq += skip; }
    this.last = seq + lines.length - 1;
    this.cb.onLines(lines, times, seq);
  }

  setStatus(status) {
    clearTimeout(this.statusTimer);
    this.status = status;
    this.cb.onStatus(status);
  }
}

/** Join the job-list feed; onJob(job) for every job's state change. Rejoins after reconnects. */
export function watchJobs(socket, onJob) {
  const join = () => socket.emit(EVENTS.WATCH_JOBS, {}, () => {});
  socket.on('connect', join);
  socket.on(EVENTS.JOB, (job) => { if (job && job.id) onJob(job); });
  if (socket.connected) join();
}
