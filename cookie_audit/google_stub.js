// A stand-in for gtag.js that behaves like GA4 where the tests look: it honours the
// consent commands in dataLayer and window['ga-disable-<ID>'], and while analytics
// storage is granted it sets _ga and _ga_<ID> on the registrable domain for two
// years and sends a collect request (which the tests stub as well).
(() => {
  const dataLayer = (window.dataLayer = window.dataLayer || []);
  if (dataLayer.stubbed) return;
  dataLayer.stubbed = true;
  const consent = { analytics_storage: "granted" };
  const tags = [];
  const domain = location.hostname.split(".").slice(-2).join(".");

  function send(tag, event) {
    if (consent.analytics_storage !== "granted" || window[`ga-disable-${tag}`]) return;
    const expires = new Date(Date.now() + 2 * 365 * 86400e3).toUTCString();
    const scope = `; expires=${expires}; path=/; domain=.${domain}`;
    try {
      document.cookie = `_ga=GA1.1.1234567890.1700000000${scope}`;
      document.cookie = `_ga_${tag.replace(/^G-/, "")}=GS1.1.1700000000.1.0.1700000000.0.0.0${scope}`;
    } catch {
      // Like gtag.js, carry on without cookies when the browser blocks them.
    }
    fetch(`https://region1.google-analytics.com/g/collect?v=2&tid=${tag}&en=${event}`, {
      method: "POST",
      mode: "no-cors",
    }).catch(() => {});
  }

  function handle(command) {
    const [name, first, second] = command;
    if (name === "consent") Object.assign(consent, second);
    if (name === "config") {
      tags.push(first);
      send(first, "page_view");
    }
    if (name === "event") for (const tag of tags) send(tag, first);
  }

  dataLayer.forEach(handle);
  const push = dataLayer.push.bind(dataLayer);
  dataLayer.push = (...commands) => {
    commands.forEach(handle);
    return push(...commands);
  };
})();
