import { api, token, setToken, clearToken } from "./api.js";
import { t, applyStatic, setLanguage, currentLanguage } from "./i18n.js";
import { announce, showError, errorText } from "./ui.js";
import * as queue from "./queue.js";
import * as drafts from "./drafts.js";
import * as kb from "./kb.js";
import * as policy from "./policy.js";
import * as reports from "./reports.js";

const ROUTES = {
  "/queue": (root, params) => queue.mount(root, params),
  "/drafts": (root, params) => drafts.mount(root, params),
  "/kb": (root, params) => kb.mount(root, params),
  "/policy": (root, params) => policy.mount(root, params),
  "/reports/bias": (root, params) => reports.mount(root, params, "bias"),
  "/reports/insights": (root, params) => reports.mount(root, params, "insights"),
};

let current = null;

function signedIn(yes) {
  document.getElementById("signin").hidden = yes;
  document.getElementById("view").hidden = !yes;
  document.getElementById("nav").hidden = !yes;
  document.getElementById("signout").hidden = !yes;
}

function route() {
  current?.unmount?.();
  current = null;
  showError("");
  announce("");
  if (!token()) {
    signedIn(false);
    document.getElementById("token").focus();
    return;
  }
  signedIn(true);
  const [path, search] = (location.hash.slice(1) || "/queue").split("?");
  const mount = ROUTES[path] || ROUTES["/queue"];
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.getAttribute("href") === `#${path}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const view = document.getElementById("view");
  current = mount(view, new URLSearchParams(search || ""));
  const heading = view.querySelector("h1");
  document.title = `${heading ? heading.textContent : ""} · ${t("brand")}`;
}

document.getElementById("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("token");
  const value = input.value.trim();
  if (!value) return;
  setToken(value);
  try {
    // Any answer but 401 means the token is known; roles decide later what each page may show.
    await api("moderator", "reviews", { query: { limit: 1 } });
  } catch (error) {
    if (error.status === 401) {
      clearToken();
      showError(t("signin.unknown"));
      input.focus();
      return;
    }
    if (error.status !== 403) {
      clearToken();
      showError(errorText(error));
      return;
    }
  }
  input.value = "";
  // replaceState, not location.hash: a hashchange would mount the page a second time.
  if (!location.hash) history.replaceState(null, "", "#/queue");
  route();
  announce(t("signin.done"));
  document.getElementById("main").focus();
});

document.getElementById("signout").addEventListener("click", () => {
  clearToken();
  history.replaceState(null, "", location.pathname);
  route();
  announce(t("signout.done"));
});

document.addEventListener("vigie:unauthorized", () => {
  clearToken();
  route();
  showError(t("signin.expired"));
});

const lang = document.getElementById("lang");
lang.value = currentLanguage();
lang.addEventListener("change", () => {
  setLanguage(lang.value);
  applyStatic();
  if (token()) route();
});

document.addEventListener("keydown", (event) => {
  if (current?.keydown?.(event)) event.preventDefault();
});

window.addEventListener("hashchange", route);
applyStatic();
route();
