// The recent jobs table on /: live state badges and durations, new jobs at the top.
import { dateTime, jobDuration } from './format.js';
import { isTerminal } from './protocol.js';
import { showProgress } from './controls.js';

const MAX_ROWS = 200;

/** Keeps #jobs-table in step with `job` events. */
export class JobList {
  constructor(table, emptyNote, jobs) {
    this.body = table.tBodies[0];
    this.emptyNote = emptyNote;
    this.jobs = new Map();
    for (const job of jobs) { this.jobs.set(job.id, job); this.fill(this.rowOf(job.id), job); }
    setInterval(() => this.tick(), 1000);
  }

  rowOf(id) {
    return Array.from(this.body.rows).find((tr) => tr.dataset.jobId === id) || null;
  }

  /** Apply one job object (a state change or a new job). */
  update(job) {
    this.jobs.set(job.id, { ...this.jobs.get(job.id), ...job });
    let tr = this.rowOf(job.id);
    if (!tr) tr = this.insert(job);
    this.fill(tr, this.jobs.get(job.id));
  }

  insert(job) {
    const tr = document.createElement('tr');
    tr.dataset.jobId = job.id;
    tr.className = 'new';
    const link = document.createElement('a');
    link.className = 'mono';
    link.href = `/jobs/${encodeURIComponent(job.id)}`;
    link.textContent = job.id.slice(0, 8);
    const cells = ['', 'task', 'state', 'started', 'num duration'].map((cls) => {
      const td = document.createElement('td');
      if (cls) td.className = cls;
      return td;
    });
    cells[0].append(link);
    cells[1].textContent = job.task;
    const badge = document.createElement('span');
    cells[2].append(badge);
    tr.append(...cells);
    this.body.prepend(tr);
    while (this.body.rows.length > MAX_ROWS) this.body.deleteRow(-1);
    this.emptyNote.hidden = true;
    return tr;
  }

  fill(tr, job) {
    if (!tr) return;
    const badge = tr.cells[2].querySelector('.badge') || tr.cells[2].firstElementChild;
    badge.className = `badge badge-${job.state}`;
    badge.textContent = job.state;
    tr.dataset.state = job.state;
    showProgress(this.progressOf(tr), job);
    tr.cells[3].textContent = dateTime(job.started_at);
    tr.cells[4].textContent = jobDuration(job);
  }

  /** The progress element of a row, made on first use. */
  progressOf(tr) {
    let el = tr.cells[2].querySelector('.job-progress');
    if (!el) {
      el = document.createElement('span');
      el.className = 'job-progress';
      el.append(document.createElement('progress'), document.createElement('span'));
      el.firstChild.max = 1;
      tr.cells[2].append(' ', el);
    }
    return el;
  }

  tick() {
    for (const job of this.jobs.values()) {
      if (job.started_at && !isTerminal(job.state)) this.fill(this.rowOf(job.id), job);
    }
  }
}
