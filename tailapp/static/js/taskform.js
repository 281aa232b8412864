// Start Task form: show (and submit) only the parameters of the selected task.

/** Wire the task picker of `form` to its per-task fieldsets. */
export function bindTaskForm(form) {
  const select = form.querySelector('select[name="task"]');
  const sets = Array.from(form.querySelectorAll('fieldset[data-task]'));
  const show = () => {
    for (const fs of sets) {
      const on = fs.dataset.task === select.value;
      fs.hidden = !on;
      fs.disabled = !on;   // disabled fields are not submitted
    }
  };
  select.addEventListener('change', show);
  show();
}
