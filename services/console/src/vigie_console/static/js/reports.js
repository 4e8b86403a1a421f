import { api } from "./api.js";
import { t } from "./i18n.js";
import { el, put, announce, showError, errorText, field } from "./ui.js";

// The audit service renders these pages; the console fetches them with the signed-in token (an
// auditor's) and shows them in a sandboxed frame, since a plain link could not carry the token.
export function mount(root, params, kind) {
  const today = new Date();
  const monthAgo = new Date(today.getTime() - 30 * 86400000);
  const community = el("input", { type: "text", value: params.get("community") || sessionStorage.getItem("vigie.community") || "", autocomplete: "off" });
  const since = el("input", { type: "date", value: monthAgo.toISOString().slice(0, 10) });
  const until = el("input", { type: "date", value: today.toISOString().slice(0, 10) });
  const frame = el("div", { id: "report" });
  const csv = kind === "insights" ? el("button", { type: "button", class: "secondary", id: "report-csv", text: t("reports.csv"), onclick: () => download() }) : null;
  const form = el("form", { class: "filters" },
    field("r-community", "kb.community", community),
    field("r-since", "reports.since", since),
    field("r-until", "reports.until", until),
    el("div", {}, el("button", { type: "submit", text: t("reports.show") })),
    csv ? el("div", {}, csv) : null);
  put(root, el("h1", { text: t(`reports.${kind}`) }), el("p", { class: "help", text: t("reports.help") }), form, frame);

  function query() {
    return {
      community: community.value.trim() || undefined,
      since: since.value ? `${since.value}T00:00:00Z` : undefined,
      until: until.value ? `${until.value}T23:59:59Z` : undefined,
    };
  }

  async function show() {
    if (community.value.trim()) sessionStorage.setItem("vigie.community", community.value.trim());
    try {
      const html = await api("audit", `reports/${kind}`, { query: query(), accept: "text/html" });
      const iframe = el("iframe", { class: "report", id: "report-frame", sandbox: "", title: t(`reports.${kind}`) });
      iframe.srcdoc = html;
      put(frame, iframe);
      showError("");
      announce(t("reports.shown"));
    } catch (error) {
      if (error.status === 404) put(frame, el("p", { class: "card", id: "report-unavailable", text: t("reports.unavailable") }));
      else if (error.status === 403) showError(t("reports.forbidden"));
      else showError(errorText(error));
    }
  }

  async function download() {
    try {
      const text = await api("audit", `reports/${kind}`, { query: query(), accept: "text/csv" });
      const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
      const link = el("a", { href: url, download: `vigie-${kind}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (error) {
      showError(errorText(error));
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    show();
  });
  show();
  return {};
}
