// The job page's controls: follow, timestamps, status badge and duration, cancel and restart.
import { api, isTerminal } from './protocol.js';
import { post } from './api.js';
import { dateTime, jobDuration } from './format.js';

/** A "Jump to end" button shown whenever the view has stopped following. */
export class FollowControl {
  constructor(view, button) {
    this.view = view;
    this.button = button;
    button.addEventListener('click', () => this.view.followEnd());
    view.onFrame(() => this.sync());
    this.sync();
  }

  sync() {
    if (this.button.hidden !== this.view.follow) this.button.hidden = this.view.follow;
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

/** Status badge, start time, ticking duration and exit code of one job. */
export class JobStatus {
  constructor(els) {
    this.els = els;     // {badge, started, duration, exit}
    this.job = null;
    this.timer = setInterval(() => this.tick(), 1000);
  }

  update(job) {
    this.job = job;
    const { badge, started, exit } = this.els;
    badge.textContent = job.state;
    badge.className = `badge badge-${job.state}`;
    started.textContent = job.started_at ? dateTime(job.started_at) : 'not started';
    if (job.started_at) started.setAttribute('datetime', new Date(job.started_at).toISOString());
    exit.hidden = job.exit_code == null;
    exit.textContent = job.exit_code == null ? '' : `exit ${job.exit_code}`;
    exit.classList.toggle('exit-bad', job.exit_code != null && job.exit_code !== 0);
    if (this.els.error) { this.els.error.hidden = !job.error; this.els.error.textContent = job.error || ''; }
    if (this.els.progress) showProgress(this.els.progress, job);
    this.tick();
  }

  tick() {
    if (this.job) this.els.duration.textContent = jobDuration(this.job);
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
    this.els.cancel.hidden = isTerminal(job.state);
    this.els.restart.hidden = !isTerminal(job.state);
  }

  async cancel() {
    this.els.cancel.disabled = true;
    try {
      await post(api.cancel(this.jobId));
      this.say('Cancel requested…');
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
