// The cookie-consent banner. Loaded synchronously in <head>: before the first paint it
// decides whether to ask (no flash, no layout shift), and it loads Google Analytics
// only for a visitor who accepted. Embeds (videos, maps) load on a click, or at once for
// a provider the visitor always allows. Settings arrive as data-* attributes on this tag.
(() => {
  "use strict";
  const config = document.currentScript.dataset;
  const html = document.documentElement;
  // The analytics cookies of the inventory, deleted without consent: "_ga _ga_*" is
  // /^(?:_ga|_ga_.*)$/ ("*" a wildcard, every other sign taken literally).
  const analyticsCookie = new RegExp(
    `^(?:${(config.analyticsCookies || "").replace(/\W/g, (c) => (c === " " ? "|" : c === "*" ? ".*" : `\\${c}`))})$`,
  );
  // v2.<revision>.a<1 accepted, 0 rejected, - not chosen>.<unix time>.<consent ID>.<seq>
  // [.e<provider>+<provider>…][.p<action>_<lang>_<banner version>: a receipt not yet recorded]
  // The one grammar of the cookie: the build copies this source into the banner manifest.
  const RECORD = /^v2\.(?<revision>\d{4}-\d\d-\d\d)\.a(?<analytics>[01-])\.(?<time>\d{1,12})\.(?<id>[0-9a-f]{32})\.(?<seq>[1-9]\d{0,5})(?:\.e(?<embeds>[a-z0-9-]+(?:\+[a-z0-9-]+)*))?(?:\.p(?<action>accept|reject|save|withdraw|always)_(?<lang>[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)_(?<banner>[0-9a-f]{12}))?$/;
  const maxAge = +config.maxAge;
  const gpcSent = !!navigator.globalPrivacyControl; // told in each receipt
  const gpc = "gpc" in config && gpcSent; // honoured
  // The backend's address for receipts (with the build's banner version); none without a backend.
  const receipts = config.receipts;
  let madeHere = null; // the choice made on this page: it holds even when cookies are blocked
  let analyticsStarted = false;

  function readCookies() {
    try {
      return document.cookie.split("; ");
    } catch {
      return []; // cookies blocked: there is no stored choice
    }
  }

  // A record of this revision, or null: a v1 one, forged or out of date, is no choice at all.
  function parse(value) {
    const record = value && RECORD.exec(value)?.groups;
    return record?.revision === config.revision
      ? {
          ...record,
          analytics: record.analytics === "-" ? null : record.analytics === "1",
          embeds: record.embeds?.split("+") || [],
          decidedAt: new Date(record.time * 1000),
          seq: +record.seq,
          value,
        }
      : null;
  }

  // The stored choice, unless it has expired (or comes from the future).
  function readChoice() {
    const prefix = `${config.cookie}=`;
    const record = parse(readCookies().find((c) => c.startsWith(prefix))?.slice(prefix.length));
    const age = Date.now() - record?.decidedAt;
    return age >= -60_000 && age <= maxAge * 1000 ? record : null;
  }

  // The choice on record: stored, or made on this page.
  const recorded = () => readChoice() || madeHere;

  function writeCookie(value, seconds) {
    const secure = location.protocol === "https:" ? "; Secure" : "";
    try {
      document.cookie = `${config.cookie}=${value}; Max-Age=${seconds | 0}; Path=/; SameSite=Lax${secure}`;
    } catch {
      // Cookies blocked: the choice holds for this page only.
    }
  }

  // The receipt of a choice, to the site's own backend; never awaited. A 409 "recorded"
  // drops the p-part (if the cookie still holds this value); anything else keeps it, so
  // the next page sends it again.
  function sendReceipt({ value: cookie, decidedAt }) {
    const body = JSON.stringify({ cookie, path: location.pathname, gpc: gpcSent });
    fetch(receipts, { method: "POST", keepalive: true, headers: { "Content-Type": "application/json" }, body })
      .then((answer) => answer.json()) // only a 409 says {"recorded": true}
      .then((answer) => {
        if (answer.recorded && readChoice()?.value === cookie) {
          writeCookie(cookie.replace(/\.p.*/, ""), maxAge - (Date.now() - decidedAt) / 1000);
        }
      })
      .catch(() => {}); // not delivered: the p-part stays, and the next page sends it again
  }

  // A new consent ID when there is no valid record; the same one, one step on, when there is.
  // Without receipts the ID is all zeros: a cookie no record answers for names no one;
  // the first choice after receipts start gets an ID of its own.
  function storeChoice(analytics, embeds, action, lang) {
    const previous = recorded();
    const bytes = new Uint8Array(16);
    if (receipts) crypto.getRandomValues(bytes);
    const id = receipts && +`0x${previous?.id}` ? previous.id : Array.from(bytes, (b) => (b | 256).toString(16).slice(1)).join("");
    const seq = (id === previous?.id && previous.seq) + 1; // 1 for a new ID
    const now = Math.floor(Date.now() / 1000);
    const a = analytics === null ? "-" : +analytics;
    const e = embeds.length ? `.e${embeds.join("+")}` : "";
    const p = receipts ? `.p${action}_${lang}_${config.banner}` : "";
    const value = `v2.${config.revision}.a${a}.${now}.${id}.${seq}${e}${p}`;
    writeCookie(value, maxAge);
    madeHere = parse(value);
    if (receipts) sendReceipt(madeHere);
  }

  function gtag() {
    (window.dataLayer = window.dataLayer || []).push(arguments);
  }

  // Google's consent mode, and each configured tag switched on or off.
  function analyticsStorage(state) {
    gtag("consent", "update", { analytics_storage: state });
    for (const [command, tagId] of window.dataLayer) {
      if (command === "config") window[`ga-disable-${tagId}`] = state === "denied";
    }
  }

  function startAnalytics() {
    const id = config.measurementId;
    if (analyticsStarted) return analyticsStorage("granted");
    analyticsStarted = true;
    gtag("consent", "default", {
      ad_storage: "denied",
      ad_user_data: "denied",
      ad_personalization: "denied",
      analytics_storage: "denied",
    });
    analyticsStorage("granted");
    if (id) {
      const script = document.createElement("script");
      script.async = true;
      script.src = `${config.gtag}?id=${encodeURIComponent(id)}`;
      document.head.append(script);
      gtag("js", new Date());
      gtag("config", id);
    }
    whenReady(runGatedScripts);
  }

  function stopAnalytics() {
    if (analyticsStarted) analyticsStorage("denied");
    deleteAnalyticsCookies();
  }

  // Wherever GA4 may have written them: on this host and on each parent domain. Run
  // on every page without consent too, so an expired or outdated choice leaves none.
  function deleteAnalyticsCookies() {
    const labels = location.hostname.split(".");
    const domains = [""];
    for (let i = 0; i < labels.length - 1; i++) domains.push(`; Domain=${labels.slice(i).join(".")}`);
    for (const cookie of readCookies()) {
      const name = cookie.split("=", 1)[0];
      if (!name || !analyticsCookie.test(name)) continue;
      for (const domain of domains) document.cookie = `${name}=; Max-Age=0; Path=/${domain}`;
    }
  }

  // Tags gated at build time (type="text/plain" data-consent="analytics") run in order.
  function runGatedScripts() {
    for (const gated of document.querySelectorAll('script[type="text/plain"][data-consent="analytics"]')) {
      const script = document.createElement("script");
      for (const { name, value } of gated.attributes) {
        if (!/^(type|data-consent|data-src|data-module)$/.test(name)) script.setAttribute(name, value);
      }
      if ("module" in gated.dataset) script.type = "module";
      script.async = gated.hasAttribute("async");
      script.src = gated.dataset.src;
      gated.replaceWith(script);
    }
  }

  function whenReady(run) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
    else run();
  }

  function choice() {
    const current = recorded();
    const allowed = gpc ? [] : current?.embeds || []; // with GPC, nothing loads "always"
    if (gpc && current?.analytics == null) {
      return { analytics: false, embeds: [], revision: config.revision, decidedAt: null, source: "gpc" };
    }
    return current && { ...current, embeds: allowed, source: "visitor" };
  }

  // A placeholder becomes its iframe; the ask stays beneath, hidden, so nothing moves.
  function loadEmbed(placeholder, focus) {
    if (placeholder.querySelector("iframe")) return;
    const { src, title, allow, referrerpolicy } = placeholder.dataset;
    const frame = document.createElement("iframe");
    Object.assign(frame, { src, title });
    if (allow) frame.allow = allow;
    if (referrerpolicy) frame.referrerPolicy = referrerpolicy;
    frame.allowFullscreen = "allowfullscreen" in placeholder.dataset;
    placeholder.append(frame);
    placeholder.dataset.loaded = "";
    if (focus) frame.focus();
  }

  function unloadEmbed(placeholder) {
    placeholder.querySelector("iframe")?.remove();
    delete placeholder.dataset.loaded;
  }

  let openSettings = () => {};
  // For tag authors: read the choice, open the settings, or listen for "consent-banner:choice".
  window.consentBanner = { choice, open: () => whenReady(() => openSettings()) };

  // Before the first paint, so that showing the controls that need this script (Cookie
  // settings, the embeds' buttons) moves nothing.
  html.classList.add("cb-js");
  if (gpc) html.classList.add("cb-gpc");

  const stored = readChoice();
  if (receipts && stored?.action) sendReceipt(stored);
  if (stored?.analytics) startAnalytics();
  else deleteAnalyticsCookies();
  if (stored?.analytics == null && !gpc) html.classList.add("cb-asking");

  whenReady(() => {
    const root = document.getElementById("cb");
    const banner = document.getElementById("cb-banner");
    const dialog = document.getElementById("cb-details");
    if (!root || !banner || !dialog) return;
    const lang = root.lang; // the banner's language
    const ask = banner.querySelector(".cb-ask");
    const done = banner.querySelector(".cb-done");
    const analyticsBox = dialog.querySelector("#cb-analytics");
    const idLine = dialog.querySelector(".cb-consent-id");
    const providerBoxes = [...dialog.querySelectorAll("[data-embed-allow]")];
    const placeholders = [...document.querySelectorAll("[data-embed][data-src]")];

    function showEmbeds() {
      const allowed = choice()?.embeds || [];
      for (const placeholder of placeholders) {
        if (allowed.includes(placeholder.dataset.embed)) loadEmbed(placeholder, false);
        else unloadEmbed(placeholder);
      }
    }

    function allowProvider(id) {
      const current = choice();
      const embeds = [...new Set([...(current?.embeds || []), id])];
      storeChoice(current?.source === "visitor" ? current.analytics : null, embeds, "always", lang);
      showEmbeds();
    }

    function decide(analytics, action, embeds = choice()?.embeds || []) {
      storeChoice(analytics, embeds, action, lang);
      if (analytics) startAnalytics();
      else stopAnalytics();
      html.classList.remove("cb-asking");
      ask.hidden = true;
      for (const message of done.querySelectorAll("[data-consent-message]")) {
        message.hidden = message.dataset.consentMessage !== (analytics ? "accept" : "reject");
      }
      done.hidden = false;
      banner.hidden = false;
      showEmbeds();
      done.focus();
      window.dispatchEvent(new CustomEvent("consent-banner:choice", { detail: choice() }));
    }

    openSettings = () => {
      const current = choice();
      analyticsBox.checked = !!current?.analytics;
      for (const box of providerBoxes) {
        box.checked = !!current?.embeds.includes(box.dataset.embedAllow);
        box.disabled = gpc;
      }
      dialog.querySelector(".cb-gpc").hidden = current?.source !== "gpc";
      const id = receipts && recorded()?.id; // an ID only where a record answers for it
      idLine.hidden = !id;
      idLine.querySelector("code").textContent = id || "";
      dialog.returnValue = "";
      if (!dialog.open) dialog.showModal();
    };

    for (const placeholder of placeholders) {
      const load = placeholder.querySelector("[data-embed-load]");
      const always = placeholder.querySelector("[data-embed-always]");
      load.addEventListener("click", () => loadEmbed(placeholder, true));
      always.addEventListener("click", () => {
        allowProvider(placeholder.dataset.embed);
        placeholder.querySelector("iframe").focus();
      });
    }
    showEmbeds();

    banner.hidden = !html.classList.contains("cb-asking");
    for (const button of banner.querySelectorAll("[data-consent-choice]")) {
      const action = button.dataset.consentChoice;
      button.addEventListener("click", () => decide(action === "accept", action));
    }
    for (const opener of document.querySelectorAll("[data-consent-open]")) {
      opener.addEventListener("click", () => openSettings());
    }
    banner.querySelector("[data-consent-hide]").addEventListener("click", () => {
      banner.hidden = true;
      root.focus();
    });
    dialog.addEventListener("close", () => {
      if (dialog.returnValue !== "save") return;
      const embeds = gpc ? [] : providerBoxes.filter((b) => b.checked).map((b) => b.dataset.embedAllow);
      // A withdrawal takes back what the record gave: analytics, or a provider.
      const before = recorded();
      const withdrawn = (before?.analytics && !analyticsBox.checked) || before?.embeds.some((e) => !embeds.includes(e));
      decide(analyticsBox.checked, withdrawn ? "withdraw" : "save", embeds);
    });
  });
})();
