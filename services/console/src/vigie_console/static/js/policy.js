import { api, seg } from "./api.js";
import { t } from "./i18n.js";
import { el, put, announce, showError, errorText, field } from "./ui.js";

const CATEGORIES = ["toxicity", "insult", "threat", "identity_attack", "spam"];
const LEVELS = ["review", "hide", "remove"];

export function mount(root, params) {
  const community = el("input", { type: "text", value: params.get("community") || sessionStorage.getItem("vigie.community") || "", required: true, autocomplete: "off" });
  const loadForm = el("form", { class: "filters" }, field("p-community", "kb.community", community), el("div", {}, el("button", { type: "submit", text: t("policy.load") })));
  const comparison = el("section", { class: "card", id: "policy-compare", "aria-labelledby": "compare-title" });
  const editors = el("div", { class: "cols" });
  put(root, el("h1", { text: t("policy.title") }), loadForm, comparison, editors);
  let view = null;

  function editor(mode) {
    const area = el("textarea", { rows: 18, class: "mono", spellcheck: "false", id: `policy-${mode}` });
    area.value = view[mode] ? JSON.stringify(view[mode], null, 2) : "";
    const save = el("button", { type: "submit", id: `save-${mode}`, text: t(`policy.save.${mode}`) });
    const form = el("form", {}, el("label", { for: area.id, text: t(`policy.${mode}`) }), area, el("p", { class: "help", text: t(`policy.${mode}.help`) }), el("div", { class: "actions" }, save));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      let policy;
      try {
        policy = JSON.parse(area.value);
      } catch (error) {
        showError(t("policy.bad_json", { detail: error.message }));
        area.focus();
        return;
      }
      try {
        view = await api("moderator", `policies/${seg(community.value.trim())}`, { method: "PUT", query: { mode }, body: policy });
        announce(t("policy.saved", { mode: t(`policy.${mode}`), version: view[mode].version }));
        showError("");
        render();
      } catch (error) {
        showError(errorText(error));
      }
    });
    return el("section", { class: "card" }, form);
  }

  function cell(live, shadow) {
    const differs = live !== shadow;
    const show = (v) => (v === null || v === undefined ? "–" : String(v));
    return el("td", { class: differs ? "num diff" : "num" }, `${show(live)} → ${show(shadow)}`, differs ? el("span", { class: "help" }, " ≠") : null);
  }

  async function heldNow(c) {
    // What the shadow policy would have done with the comments held right now, from their reviews.
    try {
      const items = await api("moderator", "reviews", { query: { community: c, limit: 500 } });
      const tally = {};
      for (const item of items) {
        const action = item.shadow ? item.shadow.action : "none";
        tally[action] = (tally[action] || 0) + 1;
      }
      return { total: items.length, tally };
    } catch {
      return null;
    }
  }

  async function render() {
    put(editors, editor("live"), editor("shadow"));
    const live = view.live;
    const shadow = view.shadow;
    if (!shadow) {
      put(comparison, el("h2", { id: "compare-title", text: t("policy.compare") }), el("p", { text: t("policy.no_shadow") }));
      return;
    }
    const threshold = (policy, category, level) => policy.thresholds?.[category]?.[level] ?? null;
    const rules = (policy) => new Map((policy.term_rules || []).map((r) => [r.name, r.action]));
    const liveRules = rules(live);
    const shadowRules = rules(shadow);
    const ruleNames = [...new Set([...liveRules.keys(), ...shadowRules.keys()])].sort();
    const held = await heldNow(community.value.trim());
    put(comparison, 
      el("h2", { id: "compare-title", text: t("policy.compare") }),
      el("p", {}, t("policy.versions", { live: live.version, shadow: shadow.version })),
      el("table", {},
        el("caption", { class: "help", text: t("policy.thresholds") }),
        el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("queue.score.category") }), ...LEVELS.map((l) => el("th", { scope: "col", text: t(`action.${l}`) })))),
        el("tbody", {}, ...CATEGORIES.map((c) => el("tr", {}, el("th", { scope: "row", text: t(`category.${c}`) }), ...LEVELS.map((l) => cell(threshold(live, c, l), threshold(shadow, c, l))))))),
      ruleNames.length
        ? el("table", {},
            el("caption", { class: "help", text: t("policy.rules") }),
            el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("policy.rule") }), el("th", { scope: "col", text: t("policy.live_to_shadow") }))),
            el("tbody", {}, ...ruleNames.map((name) => el("tr", {}, el("th", { scope: "row", text: name }), cell(liveRules.get(name), shadowRules.get(name))))))
        : null,
      held
        ? el("p", { id: "shadow-held" }, t("policy.held", { n: held.total }), " ",
            Object.entries(held.tally).map(([action, n]) => `${t(`action.${action}`, {}, action)}: ${n}`).join(" · "))
        : null,
    );
  }

  async function load() {
    const c = community.value.trim();
    if (!c) return;
    sessionStorage.setItem("vigie.community", c);
    try {
      view = await api("moderator", `policies/${seg(c)}`);
      showError("");
      await render();
      announce(t("policy.loaded", { community: c }));
    } catch (error) {
      showError(errorText(error));
    }
  }

  loadForm.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  if (community.value) load();
  return {};
}
