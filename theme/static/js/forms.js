// The site's forms with JavaScript: a form token fetched once the visitor starts on the
// form (not on every page view, so a page view asks the backend nothing), and a post sent
// in place with its answer announced in the form's live region. Without this file
// the same forms post as plain HTML and the backend answers with pages.
"use strict";

function setupForm(form) {
  const status = form.querySelector("[data-form-status]");
  const token = form.querySelector("input[name=token]");
  const button = form.querySelector("button[type=submit]");
  const say = (text, failed) => {
    status.textContent = text;
    status.classList.toggle("form-status--error", Boolean(failed));
  };
  let asked = null;
  const fetchToken = () =>
    (asked = fetch(`/api/form-token?form=${encodeURIComponent(form.dataset.backendForm)}`, {
      headers: { Accept: "application/json" },
      credentials: "omit",
    })
      .then((answer) => (answer.ok ? answer.json() : {}))
      .then((data) => {
        if (data.token) token.value = data.token;
      })
      .catch(() => {})); // no token: the plain post asks the visitor to confirm once more
  const askOnce = () => asked || fetchToken();

  form.addEventListener("focusin", askOnce, { once: true });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    button.disabled = true;
    say(status.dataset.sending);
    askOnce()
      .then(() =>
        fetch(form.action, {
          method: "POST",
          body: new URLSearchParams(new FormData(form)),
          headers: { Accept: "application/json" },
          credentials: "omit",
        }),
      )
      .then((answer) => answer.json())
      .then((data) => {
        if (data.token) token.value = data.token;
        say(data.message, !data.ok);
        if (data.ok) {
          form.reset();
          fetchToken();
        } else if (data.field && form.elements[data.field]) {
          form.elements[data.field].focus();
        }
      })
      .catch(() => say(status.dataset.failed, true))
      .finally(() => {
        button.disabled = false;
      });
  });
}

document.querySelectorAll("form[data-backend-form]").forEach(setupForm);
