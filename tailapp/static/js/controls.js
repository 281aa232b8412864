// The job page's controls: follow, timestamps, status badge and duration, cancel and restart.
import { api, isTerminal } from './protocol.js';
import { post } from './api.js';
import { jobDuration } from './format.js';
import { showTime } from './when.js';

/** A "Jump to end" button shown whenever the view has stopped following, unless a finished log's end is on screen. */
export class FollowControl {
  constructor(view, button) {
    this.view = view;
    this.button = button;
    this.finished = false;
    button.addEventListener('click', () => this.view.followEnd());
    view.onFrame(() => this.sync());
    view.scroller?.addEventListener('scroll', () => this.sync(), { passive: true });
    this.sync();
  }

  /** A finished job's log grows no more: at its end there is nothing to jump to. */
  setFinished(finished) {
    this.finished = finished;
    this.sync();
  }

  sync() {
    const hidden = this.view.follow || (this.finished && this.view.atBottom());
    if (this.button.hidden !== hidden) this.button.hidden = hidden;
  }
}

const TS_KEY = 'tailapp.timestamps';

/** off / clock / elapsed per-line times, remembered across pages. */
export class TimestampControl {
  constructor(view, select, origin) {
    this.view = view;
    this.select = select;
    let mode = 'off';
    try { mode = localStorage.getItem(TS_KEY) || 'off'; } catch { /* storage disabled */ }
    select.value = mode;
    view.setTimestamps(select.value, origin);
    select.addEventListener('change', () => {
      try { localStorage.setItem(TS_KEY, select.value); } catch { /* storage disabled */ }
      view.setTimestamps(select.value);
    });
  }

  /** Elapsed times count from the job's start once it is known. */
  setOrigin(origin) {
    if (origin != null && origin !== this.view.tsOrigin) this.view.setTimestamps(this.view.tsMode, origin);
  }
}

/** Why a job ended, said once beside its badge: "exit code 1", "exit code 1 · ValueError: kaboom". */
export function reasonOf(job) {
  const parts = [];
  const error = job.error && !(job.state === 'cancelled' && /^cancel/i.test(job.error)) ? job.error : '';
  const saysCode = error && /\bcode\b/i.test(error) && error.includes(String(job.exit_code));
  if (job.exit_code != null && !saysCode && (job.exit_code !== 0 || job.state !== 'succeeded')) parts.push(`exit code ${job.exit_code}`);
  if (error) parts.push(error);
  return parts.join(' · ');
}

/** The header's state: badge, the reason it ended, its times (relative, absolute on hover) and duration. */
export class JobStatus {
  constructor(els) {
    this.els = els;     // {badge, reason, queued, started, finished, finishedFact, duration, progress}
    this.job = null;
    this.timer = setInterval(() => this.tick(), 1000);
  }

  update(job) {
    this.job = job;
    const { badge, reason } = this.els;
    badge.textContent = job.state;
    badge.className = `badge badge-${job.state}`;
    const why = reasonOf(job);
    reason.textContent = why;
    reason.hidden = !why;
    reason.classList.toggle('bad', job.state === 'failed' || job.state === 'lost');
    this.els.finishedFact.hidden = job.finished_at == null;
    if (this.els.progress) showProgress(this.els.progress, job);
    this.tick();
  }

  tick() {
    const job = this.job;
    if (!job) return;
    this.els.duration.textContent = jobDuration(job) || '—';
    showTime(this.els.queued, job.created_at);
    showTime(this.els.started, job.started_at, 'not started');
    showTime(this.els.finished, job.finished_at);
  }
}

/** A running job's last reported progress: the bar and its message; hidden otherwise. */
export function showProgress(el, job) {
  const shown = job.state === 'running' && job.progress != null;
  el.hidden = !shown;
  if (!shown) return;
  el.querySelector('progress').value = job.progress.fraction;
  el.querySelector('span').textContent = `${Math.round(job.progress.fraction * 100)}% ${job.progress.message || ''}`.trim();
}

/** Cancel while a job can still stop; Restart once it has ended. */
export class JobActions {
  constructor(els, jobId) {
    this.els = els;     // {cancel, restart, message}
    this.jobId = jobId;
    els.cancel.addEventListener('click', () => this.cancel());
    els.restart.addEventListener('click', () => this.restart());
  }

  update(job) {
    // A job never leaves an end state (a restart is a new job). The cancel request's answer is the job as
    // it was then, and the socket can bring the end before it: that answer must not bring Cancel back.
    if (this.ended && !isTerminal(job.state)) return;
    const ended = isTerminal(job.state);
    this.ended = ended;
    this.els.cancel.hidden = ended;
    this.els.restart.hidden = !ended;
    // Once the job has ended its state answers "Cancel requested…"; until then, say it to every viewer.
    if (ended) this.say('');
    else if (job.cancelled_by) this.say('Cancel requested…');
  }

  async cancel() {
    this.els.cancel.disabled = true;
    try {
      const answer = await post(api.cancel(this.jobId));
      if (answer?.job) this.update(answer.job);
    } catch (err) {
      this.say(`Could not cancel: ${err.message}`);
    } finally {
      this.els.cancel.disabled = false;
    }
  }

  async restart() {
    this.els.restart.disabled = true;
    try {
      const answer = await post(api.restart(this.jobId));
      location.assign(answer.url || api.page(answer.id));
    } catch (err) {
      this.say(`Could not restart: ${err.message}`);
      this.els.restart.disabled = false;
    }
  }

  say(text) {
    this.els.message.textContent = text;
    this.els.message.hidden = !text;
  }
}

/** The toolbar's "⋯" button: at narrow widths the log tools fold into a menu it opens and closes. */
export class ToolsMenu {
  constructor(button, menu) {
    this.button = button;
    this.menu = menu;
    button.addEventListener('click', () => this.toggle(!menu.classList.contains('open')));
    menu.addEventListener('keydown', (e) => { if (e.key === 'Escape') { this.toggle(false); button.focus(); } });
    document.addEventListener('click', (e) => {
      if (!menu.contains(e.target) && !button.contains(e.target)) this.toggle(false);
    });
  }

  toggle(open) {
    this.menu.classList.toggle('open', open);
    this.button.setAttribute('aria-expanded', String(open));
  }
}
