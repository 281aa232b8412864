// Bootstraps /: the Start Task form and the live job list.
import { pageData } from './api.js';
import { openSocket, watchJobs } from './connection.js';
import { JobList } from './joblist.js';
import { bindTaskForm } from './taskform.js';

const form = document.getElementById('start-form');
if (form) bindTaskForm(form);

const list = new JobList(document.getElementById('jobs-table'), document.getElementById('jobs-empty'), pageData('jobs-data') || [],
  pageData('task-titles') || {});
watchJobs(openSocket(), (job) => list.update(job));
window.tailapp = { list };
