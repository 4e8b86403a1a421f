import { api, seg } from "./api.js";
import { t } from "./i18n.js";
import { highlighted, termsOf } from "./highlight.js";
import { el, put, announce, showError, errorText, age, dateTime, number, typing, field } from "./ui.js";

// The server sends a window of the oldest pending items; deciding removes them from the window and
// the window is topped up in the background, so a queue of any length costs one page of DOM.
const WINDOW = 100;
const REFILL_BELOW = 25;
const CATEGORIES = ["toxicity", "insult", "threat", "identity_attack", "spam"];
const AGES = {
  any: {},
  lt1h: { max_age_seconds: 3600 },
  lt24h: { max_age_seconds: 86400 },
  gt1h: { min_age_seconds: 3600 },
  gt24h: { min_age_seconds: 86400 },
};

export function mount(root) {
  const state = { items: [], index: 0, decided: new Set(), loading: false, busy: false, exhausted: false };
  const filters = JSON.parse(sessionStorage.getItem("vigie.queue.filters") || "{}");

  const community = el("input", { type: "text", value: filters.community || "", autocomplete: "off" });
  const language = el("input", { type: "text", value: filters.language || "", list: "q-languages", size: 6 });
  const category = el("input", { type: "text", value: filters.category || "", list: "q-categories", size: 14 });
  const ageSelect = el("select", {}, ...Object.keys(AGES).map((key) => el("option", { value: key, text: t(`queue.age.${key}`) })));
  ageSelect.value = filters.age || "any";
  const apply = el("button", { type: "submit", text: t("queue.apply") });
  const form = el(
    "form",
    { class: "filters", "aria-label": t("queue.filters") },
    field("q-community", "queue.community", community),
    field("q-language", "queue.language", language),
    field("q-category", "queue.category", category, "queue.category.help"),
    field("q-age", "queue.age", ageSelect),
    el("div", {}, apply),
    el("datalist", { id: "q-languages" }, ...["en", "fr", "und"].map((v) => el("option", { value: v }))),
    el("datalist", { id: "q-categories" }, ...CATEGORIES.map((v) => el("option", { value: v }))),
  );

  const list = el("ul", { class: "list", role: "listbox", tabindex: "0", "aria-label": t("queue.list"), id: "queue-list" });
  const detail = el("section", { class: "card", "aria-labelledby": "detail-title", id: "queue-detail" });
  const count = el("p", { class: "help", id: "queue-count" });
  put(root, 
    el("h1", { text: t("queue.title") }),
    form,
    el("p", { class: "help" }, t("queue.keys.before"), " ", el("kbd", { text: "j" }), " ", el("kbd", { text: "k" }), " ",
      t("queue.keys.move"), " · ", el("kbd", { text: "a" }), " ", t("queue.keys.approve"), " · ",
      el("kbd", { text: "r" }), " ", t("queue.keys.remove")),
    count,
    el("div", { class: "split" }, el("div", {}, list), detail),
  );

  function query() {
    return {
      community: community.value.trim() || undefined,
      language: language.value.trim() || undefined,
      category: category.value.trim() || undefined,
      ...AGES[ageSelect.value],
    };
  }

  // A new filter cancels the page still on its way; a top-up never interrupts anything.
  let inflight = null;
  async function load({ reset }) {
    if (!reset && state.loading) return;
    inflight?.abort();
    const mine = new AbortController();
    inflight = mine;
    state.loading = true;
    list.setAttribute("aria-busy", "true");
    try {
      const page = await api("moderator", "reviews", { query: { ...query(), limit: WINDOW }, signal: mine.signal });
      const known = new Set(state.items.map((item) => item.id));
      const selectedId = state.items[state.index]?.id;
      if (reset) state.items = [];
      for (const item of page) {
        if (!state.decided.has(item.id) && (reset || !known.has(item.id))) state.items.push(item);
      }
      state.exhausted = page.length < WINDOW;
      if (!reset && selectedId) state.index = Math.max(0, state.items.findIndex((item) => item.id === selectedId));
      if (reset) state.index = 0;
      showError("");
      render();
    } catch (error) {
      if (error.name !== "AbortError") showError(errorText(error));
    } finally {
      if (inflight === mine) {
        inflight = null;
        state.loading = false;
        list.setAttribute("aria-busy", "false");
      }
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(
      "vigie.queue.filters",
      JSON.stringify({ community: community.value, language: language.value, category: category.value, age: ageSelect.value }),
    );
    load({ reset: true }).then(() => announce(t("queue.loaded", { n: state.items.length })));
  });

  function render() {
    const rows = state.items.map((item, i) =>
      el(
        "li",
        { role: "option", id: `review-${i}`, "aria-selected": String(i === state.index), "data-id": item.id, onclick: () => select(i, true) },
        el("span", { class: "meta" }, `${item.community} · ${item.language} · ${age(item.created_at)} · ${(item.categories || []).join(", ")}`),
        el("span", { class: "snippet", text: item.text }),
      ),
    );
    put(list, ...rows);
    if (rows.length) list.setAttribute("aria-activedescendant", `review-${state.index}`);
    else list.removeAttribute("aria-activedescendant");
    count.textContent = state.items.length
      ? t(state.exhausted ? "queue.count" : "queue.count.more", { n: state.items.length })
      : "";
    renderDetail();
  }

  function select(i, focusList) {
    if (!state.items.length) return;
    state.index = Math.min(Math.max(i, 0), state.items.length - 1);
    for (const [n, li] of [...list.children].entries()) li.setAttribute("aria-selected", String(n === state.index));
    list.setAttribute("aria-activedescendant", `review-${state.index}`);
    list.children[state.index]?.scrollIntoView({ block: "nearest" });
    if (focusList) list.focus();
    renderDetail();
  }

  function renderDetail() {
    const item = state.items[state.index];
    if (!item) {
      put(detail, el("h2", { id: "detail-title", text: t("queue.empty.title") }), el("p", { class: "empty", text: t("queue.empty") }));
      return;
    }
    const scores = Object.entries(item.scores || {}).filter(([name]) => name !== "sentiment");
    const table = el(
      "table",
      {},
      el("caption", { class: "help", text: t("queue.scores") }),
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("queue.score.category") }), el("th", { scope: "col", text: t("queue.score.value") }), el("th", { scope: "col", text: "" }))),
      el(
        "tbody",
        {},
        ...scores.map(([name, value]) =>
          el(
            "tr",
            {},
            el("th", { scope: "row", text: t(`category.${name}`, {}, name) }),
            el("td", { class: "num", text: number(value) }),
            el("td", { "aria-hidden": "true" }, el("span", { class: value >= 0.5 ? "bar high" : "bar", style: `width:${Math.round(value * 8)}rem` })),
          ),
        ),
        "sentiment" in (item.scores || {})
          ? el("tr", {}, el("th", { scope: "row", text: t("category.sentiment") }), el("td", { class: "num", text: number(item.scores.sentiment) }), el("td"))
          : null,
      ),
    );
    const shadow = item.shadow
      ? el(
          "div",
          { id: "shadow" },
          el("p", {}, t("queue.shadow", { version: item.shadow.policy_version }), " ", el("span", { class: `badge ${item.shadow.action}`, text: t(`action.${item.shadow.action}`) }),
            item.shadow.action === "review" ? ` (${t("queue.shadow.same")})` : ` (${t("queue.shadow.differs")})`),
          item.shadow.reasons.length ? el("ul", {}, ...item.shadow.reasons.map((r) => el("li", { text: r }))) : null,
        )
      : el("p", { class: "help", id: "shadow", text: t("queue.shadow.none") });
    const terms = termsOf(item.reasons);
    put(detail, 
      el("h2", { id: "detail-title", text: t("queue.detail", { n: state.index + 1, total: state.items.length }) }),
      el("p", { class: "context" }, `${item.platform} · ${item.community} · ${t("queue.thread")} ${item.thread_id} · ${t("queue.comment")} ${item.comment_id}`),
      el("blockquote", { class: "comment", lang: item.language !== "und" ? item.language : null, id: "comment-text" }, highlighted(item.text, item.reasons)),
      terms.length ? el("p", { class: "help" }, t("queue.terms"), " ", terms.join(", ")) : null,
      el("dl", { class: "kv" },
        el("dt", { text: t("queue.received") }), el("dd", { text: `${dateTime(item.created_at)} (${age(item.created_at)})` }),
        el("dt", { text: t("queue.language") }), el("dd", { text: item.language }),
        el("dt", { text: t("queue.policy") }), el("dd", { text: item.policy_version }),
      ),
      el("h3", { text: t("queue.reasons") }),
      el("ul", { id: "reasons" }, ...(item.reasons || []).map((r) => el("li", { text: r }))),
      table,
      el("h3", { text: t("queue.shadow.title") }),
      shadow,
      el(
        "div",
        { class: "actions" },
        el("button", { type: "button", id: "approve", disabled: state.busy, onclick: () => decide("approve") }, t("queue.approve"), " ", el("kbd", { text: "a" })),
        el("button", { type: "button", class: "danger", id: "remove", disabled: state.busy, onclick: () => decide("remove") }, t("queue.remove"), " ", el("kbd", { text: "r" })),
      ),
    );
  }

  async function decide(verdict) {
    const item = state.items[state.index];
    if (!item || state.busy) return;
    state.busy = true;
    try {
      await api("moderator", `reviews/${seg(item.id)}/decision`, { method: "POST", body: { verdict } });
      announce(t(verdict === "approve" ? "queue.approved" : "queue.removed", { n: state.items.length - 1 }));
      showError("");
    } catch (error) {
      if (error.status === 409) announce(t("queue.conflict", { detail: error.detail }));
      else {
        showError(errorText(error));
        state.busy = false;
        return;
      }
    }
    state.busy = false;
    state.decided.add(item.id);
    state.items.splice(state.index, 1);
    if (state.index >= state.items.length) state.index = Math.max(0, state.items.length - 1);
    render();
    list.focus();
    if (state.items.length < REFILL_BELOW && !state.exhausted) load({ reset: false });
  }

  load({ reset: true });

  return {
    keydown(event) {
      if (typing(event)) return false;
      switch (event.key) {
        case "j":
        case "ArrowDown":
          select(state.index + 1, true);
          return true;
        case "k":
        case "ArrowUp":
          select(state.index - 1, true);
          return true;
        case "Home":
          select(0, true);
          return true;
        case "End":
          select(state.items.length - 1, true);
          return true;
        case "a":
          decide("approve");
          return true;
        case "r":
          decide("remove");
          return true;
        default:
          return false;
      }
    },
  };
}
