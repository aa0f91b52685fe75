// Cloud 7 cookie consent. Loaded synchronously in <head>: before the first paint it
// decides whether to ask (no flash, no layout shift), and it loads Google Analytics
// only for a visitor who accepted. Embeds (videos, maps) load on a click, or at once for
// a provider the visitor always allows. Settings arrive as data-* attributes on this tag.
(() => {
  "use strict";
  const config = document.currentScript.dataset;
  const html = document.documentElement;
  // The analytics cookies of the inventory ("_ga_*": "*" is a wildcard), deleted without consent.
  const literal = (text) => text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  const analyticsNames = (config.analyticsCookies || "").split(" ").filter(Boolean);
  const analyticsCookie = new RegExp(
    `^(?:${analyticsNames.map((name) => name.split("*").map(literal).join(".*")).join("|")})$`,
  );
  // v1.<revision>.a<1 accepted, 0 rejected, - not chosen>.<unix time>[.e<provider>+<provider>…]
  const RECORD = /^v1\.(\d{4}-\d\d-\d\d)\.a([01-])\.(\d{1,12})(?:\.e([a-z0-9-]+(?:\+[a-z0-9-]+)*))?$/;
  const maxAge = Number(config.maxAge);
  const gpc = "gpc" in config && navigator.globalPrivacyControl === true;
  let madeHere = null; // the choice made on this page: it holds even when cookies are blocked
  let analyticsStarted = false;

  function readCookies() {
    try {
      return document.cookie ? document.cookie.split("; ") : [];
    } catch {
      return []; // cookies blocked: there is no stored choice
    }
  }

  // An expired, unreadable, forged or out-of-date record is no choice at all.
  function readChoice() {
    const prefix = `${config.cookie}=`;
    const cookie = readCookies().find((c) => c.startsWith(prefix));
    const record = cookie && RECORD.exec(cookie.slice(prefix.length));
    if (!record || record[1] !== config.revision) return null;
    const decidedAt = Number(record[3]) * 1000;
    const age = Date.now() - decidedAt;
    if (age < -60_000 || age > maxAge * 1000) return null;
    const analytics = record[2] === "-" ? null : record[2] === "1";
    const embeds = record[4] ? record[4].split("+") : [];
    return { analytics, embeds, revision: record[1], decidedAt: new Date(decidedAt) };
  }

  function storeChoice(analytics, embeds) {
    const now = Math.floor(Date.now() / 1000);
    const secure = location.protocol === "https:" ? "; Secure" : "";
    const a = analytics === null ? "-" : analytics ? 1 : 0;
    const e = embeds.length ? `.e${embeds.join("+")}` : "";
    try {
      document.cookie = `${config.cookie}=v1.${config.revision}.a${a}.${now}${e}; Max-Age=${maxAge}; Path=/; SameSite=Lax${secure}`;
    } catch {
      // Cookies blocked: the choice holds for this page only.
    }
    madeHere = { analytics, embeds, revision: config.revision, decidedAt: new Date(now * 1000) };
  }

  function gtag() {
    (window.dataLayer = window.dataLayer || []).push(arguments);
  }

  function startAnalytics() {
    const id = config.measurementId;
    if (analyticsStarted) {
      gtag("consent", "update", { analytics_storage: "granted" });
      for (const tagId of configuredTagIds()) window[`ga-disable-${tagId}`] = false;
      return;
    }
    analyticsStarted = true;
    gtag("consent", "default", {
      ad_storage: "denied",
      ad_user_data: "denied",
      ad_personalization: "denied",
      analytics_storage: "denied",
    });
    gtag("consent", "update", { analytics_storage: "granted" });
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

  function configuredTagIds() {
    return (window.dataLayer || []).filter((c) => c[0] === "config").map((c) => c[1]);
  }

  function stopAnalytics() {
    if (analyticsStarted) {
      gtag("consent", "update", { analytics_storage: "denied" });
      for (const tagId of configuredTagIds()) window[`ga-disable-${tagId}`] = true;
    }
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
      if (!analyticsNames.length || !analyticsCookie.test(name)) continue;
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
    const current = readChoice() || madeHere;
    const allowed = gpc ? [] : current?.embeds || []; // with GPC, nothing loads "always"
    if (current?.analytics != null) return { ...current, embeds: allowed, source: "visitor" };
    if (gpc) return { analytics: false, embeds: [], revision: config.revision, decidedAt: null, source: "gpc" };
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
  // For tag authors: read the choice, open the settings, or listen for "cloud7:consent".
  window.cloud7Consent = { choice, open: () => whenReady(() => openSettings()) };

  // Before the first paint, so that showing the controls that need this script (Cookie
  // settings, the embeds' buttons) moves nothing.
  html.classList.add("c7c-js");
  if (gpc) html.classList.add("c7c-gpc");

  const stored = readChoice();
  if (stored?.analytics) startAnalytics();
  else deleteAnalyticsCookies();
  if (stored?.analytics == null && !gpc) html.classList.add("c7c-asking");

  whenReady(() => {
    const root = document.getElementById("c7c");
    const banner = document.getElementById("c7c-banner");
    const dialog = document.getElementById("c7c-details");
    if (!root || !banner || !dialog) return;
    const ask = banner.querySelector(".c7c-ask");
    const done = banner.querySelector(".c7c-done");
    const analyticsBox = dialog.querySelector("#c7c-analytics");
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
      storeChoice(current?.source === "visitor" ? current.analytics : null, embeds);
      showEmbeds();
    }

    function decide(analytics, embeds = choice()?.embeds || []) {
      storeChoice(analytics, embeds);
      if (analytics) startAnalytics();
      else stopAnalytics();
      html.classList.remove("c7c-asking");
      ask.hidden = true;
      for (const message of done.querySelectorAll("[data-consent-message]")) {
        message.hidden = message.dataset.consentMessage !== (analytics ? "accept" : "reject");
      }
      done.hidden = false;
      banner.hidden = false;
      showEmbeds();
      done.focus();
      window.dispatchEvent(new CustomEvent("cloud7:consent", { detail: choice() }));
    }

    openSettings = () => {
      const current = choice();
      analyticsBox.checked = Boolean(current?.analytics);
      for (const box of providerBoxes) {
        box.checked = Boolean(current?.embeds.includes(box.dataset.embedAllow));
        box.disabled = gpc;
      }
      dialog.querySelector(".c7c-gpc").hidden = current?.source !== "gpc";
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

    banner.hidden = !html.classList.contains("c7c-asking");
    for (const button of banner.querySelectorAll("[data-consent-choice]")) {
      button.addEventListener("click", () => decide(button.dataset.consentChoice === "accept"));
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
      decide(analyticsBox.checked, embeds);
    });
  });
})();
