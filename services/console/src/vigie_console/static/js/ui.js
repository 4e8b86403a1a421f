import { t, currentLanguage } from "./i18n.js";

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// replaceChildren without the nulls that optional parts leave (it would print "null").
export function put(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

// Polite announcements for screen readers and a visible status line for everyone.
let clearTimer;
export function announce(message) {
  const status = document.getElementById("status");
  status.textContent = message;
  clearTimeout(clearTimer);
  clearTimer = setTimeout(() => {
    if (status.textContent === message) status.textContent = "";
  }, 8000);
}

export function showError(message) {
  const alert = document.getElementById("alert");
  if (!message) {
    alert.hidden = true;
    alert.textContent = "";
    return;
  }
  alert.textContent = message;
  alert.hidden = false;
}

export function errorText(error) {
  if (error && error.status === 403) return t("error.forbidden", { detail: error.detail });
  if (error && error.status === 502) return t("error.unreachable", { detail: error.detail });
  if (error && error.status) return t("error.http", { status: error.status, detail: error.detail });
  return t("error.network", { detail: String((error && error.message) || error) });
}

export function age(iso) {
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  const rtf = new Intl.RelativeTimeFormat(currentLanguage(), { numeric: "auto", style: "short" });
  if (seconds < 60) return rtf.format(-Math.round(seconds), "second");
  if (seconds < 3600) return rtf.format(-Math.round(seconds / 60), "minute");
  if (seconds < 86400) return rtf.format(-Math.round(seconds / 3600), "hour");
  return rtf.format(-Math.round(seconds / 86400), "day");
}

export function dateTime(iso) {
  if (!iso) return "–";
  return new Intl.DateTimeFormat(currentLanguage(), { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

export function number(value, digits = 2) {
  return new Intl.NumberFormat(currentLanguage(), { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
}

// Single-key shortcuts never fire while someone types in a field.
export function typing(event) {
  const target = event.target;
  return (
    event.ctrlKey || event.metaKey || event.altKey ||
    (target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName)))
  );
}

export function field(id, labelKey, input, helpKey) {
  input.id = id;
  const parts = [el("label", { for: id, text: t(labelKey) }), input];
  if (helpKey) {
    input.setAttribute("aria-describedby", `${id}-help`);
    parts.push(el("span", { id: `${id}-help`, class: "help", text: t(helpKey) }));
  }
  return el("div", {}, ...parts);
}
