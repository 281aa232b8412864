// HTTP calls to the server, with the CSRF token the page carries.

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : '';
}

/** POST with the CSRF token; resolves to the JSON answer, throws Error(message) on failure. */
export async function post(url, body = null) {
  const res = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'X-CSRFToken': csrfToken(), 'Content-Type': 'application/json', Accept: 'application/json' },
    body: body == null ? null : JSON.stringify(body),
  });
  let data = null;
  try { data = await res.json(); } catch { /* an empty or non-JSON answer */ }
  if (!res.ok) throw new Error((data && data.error) || `${res.status} ${res.statusText}`);
  return data;
}

/** Parse the JSON the template put in <script type="application/json" id=…>. */
export function pageData(id) {
  const el = document.getElementById(id);
  return el ? JSON.parse(el.textContent) : null;
}
