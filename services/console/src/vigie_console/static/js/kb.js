import { api, seg } from "./api.js";
import { t } from "./i18n.js";
import { el, put, announce, showError, errorText, field } from "./ui.js";

const lines = (value) => value.split("\n").map((s) => s.trim()).filter(Boolean);
// <input type="datetime-local"> speaks the browser's local time; the API speaks UTC.
const localInput = (iso) => {
  if (!iso) return "";
  const when = new Date(iso);
  return new Date(when.getTime() - when.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
};
const isoOrNull = (value) => (value ? new Date(value).toISOString() : null);

export function mount(root, params) {
  const community = el("input", { type: "text", value: params.get("community") || sessionStorage.getItem("vigie.community") || "", required: true, autocomplete: "off" });
  const loadForm = el("form", { class: "filters" }, field("kb-community", "kb.community", community), el("div", {}, el("button", { type: "submit", text: t("kb.load") })));
  const listBox = el("div", { id: "kb-list" });
  const editor = el("section", { class: "card", "aria-labelledby": "kb-editor-title", id: "kb-editor" });
  const searchBox = el("section", { class: "card", "aria-labelledby": "kb-search-title" });
  put(root, el("h1", { text: t("kb.title") }), loadForm, el("div", { class: "split" }, listBox, el("div", {}, editor, searchBox)));

  const inputs = {
    id: el("input", { type: "text", required: true, autocomplete: "off", pattern: "[A-Za-z0-9._:\\-]{1,128}" }),
    qfr: el("textarea", { rows: 3 }),
    qen: el("textarea", { rows: 3 }),
    afr: el("textarea", { rows: 3 }),
    aen: el("textarea", { rows: 3 }),
    tags: el("input", { type: "text", autocomplete: "off" }),
    from: el("input", { type: "datetime-local" }),
    until: el("input", { type: "datetime-local" }),
  };
  const editForm = el(
    "form",
    {},
    field("kb-id", "kb.entry_id", inputs.id, "kb.entry_id.help"),
    el("div", { class: "cols" }, field("kb-qfr", "kb.questions.fr", inputs.qfr, "kb.one_per_line"), field("kb-qen", "kb.questions.en", inputs.qen, "kb.one_per_line")),
    el("div", { class: "cols" }, field("kb-afr", "kb.answer.fr", inputs.afr), field("kb-aen", "kb.answer.en", inputs.aen)),
    field("kb-tags", "kb.tags", inputs.tags, "kb.tags.help"),
    el("div", { class: "cols" }, field("kb-from", "kb.valid_from", inputs.from), field("kb-until", "kb.valid_until", inputs.until)),
    el("div", { class: "actions" },
      el("button", { type: "submit", id: "kb-save", text: t("kb.save") }),
      el("button", { type: "button", class: "secondary", text: t("kb.new"), onclick: () => fill(null) }),
      el("button", { type: "button", class: "danger", id: "kb-delete", text: t("kb.delete"), onclick: () => remove() })),
  );
  put(editor, el("h2", { id: "kb-editor-title", text: t("kb.editor") }), editForm);

  const searchText = el("input", { type: "text", autocomplete: "off" });
  const results = el("ol", { id: "kb-results" });
  put(searchBox, 
    el("h2", { id: "kb-search-title", text: t("kb.search") }),
    el("form", { onsubmit: (e) => { e.preventDefault(); search(); } }, field("kb-search-text", "kb.search.text", searchText, "kb.search.help"), el("div", { class: "actions" }, el("button", { type: "submit", text: t("kb.search.run") }))),
    results,
  );

  let entries = [];

  function unavailable(error) {
    // The knowledge-base routes come with a later responder: say so instead of a bare 404.
    if (error.status === 404 && !entries.length) {
      put(listBox, el("p", { class: "card", id: "kb-unavailable", text: t("kb.unavailable") }));
      return true;
    }
    return false;
  }

  // `quiet` after a save or a delete: their own message is the one to hear, not the count.
  async function load({ quiet = false } = {}) {
    const c = community.value.trim();
    if (!c) return;
    sessionStorage.setItem("vigie.community", c);
    try {
      const body = await api("responder", `kb/${seg(c)}/entries`);
      entries = Array.isArray(body) ? body : body.entries || body.items || [];
      showError("");
      renderList();
      const wanted = params.get("entry");
      if (wanted) fill(entries.find((e) => e.entry_id === wanted) || null);
      if (!quiet) announce(t("kb.loaded", { n: entries.length, community: c }));
    } catch (error) {
      if (!unavailable(error)) showError(errorText(error));
    }
  }

  function renderList() {
    put(listBox, 
      el("h2", { text: t("kb.entries", { n: entries.length }) }),
      entries.length
        ? el("ul", { class: "list" }, ...entries.map((e) =>
            el("li", {}, el("button", { type: "button", class: "secondary", onclick: () => fill(e), text: e.entry_id }), " ",
              el("span", { class: "snippet", text: [...(e.questions?.fr || []), ...(e.questions?.en || [])][0] || "" }))))
        : el("p", { class: "empty", text: t("kb.none") }),
    );
  }

  function fill(entry) {
    inputs.id.value = entry?.entry_id || "";
    inputs.id.readOnly = Boolean(entry);
    inputs.qfr.value = (entry?.questions?.fr || []).join("\n");
    inputs.qen.value = (entry?.questions?.en || []).join("\n");
    inputs.afr.value = entry?.answers?.fr || "";
    inputs.aen.value = entry?.answers?.en || "";
    inputs.tags.value = (entry?.tags || []).join(", ");
    inputs.from.value = localInput(entry?.valid_from);
    inputs.until.value = localInput(entry?.valid_until);
    inputs.id.focus();
  }

  editForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const c = community.value.trim();
    const body = {
      questions: { fr: lines(inputs.qfr.value), en: lines(inputs.qen.value) },
      answers: Object.fromEntries([["fr", inputs.afr.value.trim()], ["en", inputs.aen.value.trim()]].filter(([, v]) => v)),
      tags: inputs.tags.value.split(",").map((s) => s.trim()).filter(Boolean),
      valid_from: isoOrNull(inputs.from.value),
      valid_until: isoOrNull(inputs.until.value),
    };
    if (!body.questions.fr.length && !body.questions.en.length) return showError(t("kb.needs_question"));
    if (!Object.keys(body.answers).length) return showError(t("kb.needs_answer"));
    try {
      await api("responder", `kb/${seg(c)}/entries/${seg(inputs.id.value.trim())}`, { method: "PUT", body });
      const saved = inputs.id.value.trim();
      showError("");
      await load({ quiet: true });
      announce(t("kb.saved", { id: saved }));
    } catch (error) {
      if (!unavailable(error)) showError(errorText(error));
    }
  });

  async function remove() {
    const id = inputs.id.value.trim();
    if (!id || !confirm(t("kb.confirm_delete", { id }))) return;
    try {
      await api("responder", `kb/${seg(community.value.trim())}/entries/${seg(id)}`, { method: "DELETE" });
      fill(null);
      await load({ quiet: true });
      announce(t("kb.deleted", { id }));
    } catch (error) {
      if (!unavailable(error)) showError(errorText(error));
    }
  }

  async function search() {
    try {
      const body = await api("responder", `kb/${seg(community.value.trim())}/search`, { method: "POST", body: { text: searchText.value, limit: 5 } });
      put(results, ...(body.results || []).map((r) => el("li", {}, `${r.entry_id} · ${r.score.toFixed(2)} · `, el("q", { text: r.matched_question || "" }))));
      announce(t("kb.search.found", { n: (body.results || []).length }));
    } catch (error) {
      if (!unavailable(error)) showError(errorText(error));
    }
  }

  loadForm.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  if (community.value) load();
  return {};
}
