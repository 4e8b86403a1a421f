import { api, seg } from "./api.js";
import { t } from "./i18n.js";
import { el, put, announce, showError, errorText, age, dateTime, typing, field } from "./ui.js";

// When the responder does not say (an older one), the platforms' documented limits.
export const REPLY_LIMITS = {
  twitch: 500,
  discord: 2000,
  telegram: 4096,
  instagram: 2200,
  facebook: 8000,
  slack: 4000,
  youtube: 10000,
  mastodon: 500,
  generic: 10000,
};
const STATUSES = ["pending", "approved", "edited", "rejected", "published", "failed", ""];
const PAGE = 100;
const SETTLED = new Set(["published", "failed", "rejected"]);

export function limitFor(draft) {
  return draft.reply_limit || REPLY_LIMITS[draft.platform] || 10000;
}

export function mount(root) {
  const state = { items: [], index: 0, busy: false, polls: new Map() };
  const statusSelect = el("select", {}, ...STATUSES.map((s) => el("option", { value: s, text: t(`drafts.status.${s || "all"}`) })));
  statusSelect.value = sessionStorage.getItem("vigie.drafts.status") ?? "pending";
  const list = el("ul", { class: "list", role: "listbox", tabindex: "0", "aria-label": t("drafts.list"), id: "drafts-list" });
  const detail = el("section", { class: "card", "aria-labelledby": "draft-title", id: "draft-detail" });
  const form = el("form", { class: "filters" }, field("d-status", "drafts.status", statusSelect), el("div", {}, el("button", { type: "submit", text: t("queue.apply") })));
  put(root, 
    el("h1", { text: t("drafts.title") }),
    form,
    el("p", { class: "help" }, el("kbd", { text: "j" }), " ", el("kbd", { text: "k" }), " ", t("queue.keys.move"), " · ",
      el("kbd", { text: "e" }), " ", t("drafts.keys.edit"), " · ", el("kbd", { text: "a" }), " ", t("drafts.keys.approve"), " · ",
      el("kbd", { text: "x" }), " ", t("drafts.keys.reject")),
    el("div", { class: "split" }, el("div", {}, list), detail),
  );

  async function load() {
    try {
      const status = statusSelect.value;
      state.items = await api("responder", "drafts", { query: { status: status || undefined, limit: PAGE } });
      state.index = Math.min(state.index, Math.max(0, state.items.length - 1));
      showError("");
      render();
    } catch (error) {
      showError(errorText(error));
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem("vigie.drafts.status", statusSelect.value);
    state.index = 0;
    load().then(() => announce(t("drafts.loaded", { n: state.items.length })));
  });

  function render() {
    put(list, 
      ...state.items.map((d, i) =>
        el(
          "li",
          { role: "option", id: `draft-${i}`, "aria-selected": String(i === state.index), onclick: () => select(i, true) },
          el("span", { class: "meta" }, `${d.platform} · ${d.community} · ${age(d.created_at)} · `, el("span", { class: `badge ${d.status}`, text: t(`drafts.status.${d.status}`, {}, d.status) })),
          el("span", { class: "snippet", text: d.comment_text }),
        ),
      ),
    );
    if (state.items.length) list.setAttribute("aria-activedescendant", `draft-${state.index}`);
    else list.removeAttribute("aria-activedescendant");
    renderDetail();
  }

  function select(i, focusList) {
    if (!state.items.length) return;
    state.index = Math.min(Math.max(i, 0), state.items.length - 1);
    for (const [n, li] of [...list.children].entries()) li.setAttribute("aria-selected", String(n === state.index));
    list.setAttribute("aria-activedescendant", `draft-${state.index}`);
    list.children[state.index]?.scrollIntoView({ block: "nearest" });
    if (focusList) list.focus();
    renderDetail();
  }

  function renderDetail() {
    const d = state.items[state.index];
    if (!d) {
      put(detail, el("h2", { id: "draft-title", text: t("drafts.empty.title") }), el("p", { class: "empty", text: t("drafts.empty") }));
      return;
    }
    const limit = limitFor(d);
    const editable = d.status === "pending";
    const text = el("textarea", { id: "draft-text", rows: 6, readonly: !editable, "aria-describedby": "draft-counter" });
    text.value = d.final_text || d.text;
    const counter = el("p", { id: "draft-counter", class: "counter" });
    const updateCounter = () => {
      const n = [...text.value].length; // code points, as the platforms count characters
      counter.textContent = t("drafts.counter", { n, limit, platform: d.platform });
      counter.classList.toggle("over", n > limit);
      approve.disabled = state.busy || !editable || n === 0 || n > limit;
    };
    const reason = el("input", { type: "text", id: "reject-reason", disabled: !editable, autocomplete: "off" });
    const approve = el("button", { type: "button", id: "approve-draft", onclick: () => approveDraft(d, text.value) }, t("drafts.approve"), " ", el("kbd", { text: "a" }));
    const reject = el("button", { type: "button", class: "danger", id: "reject-draft", disabled: !editable, onclick: () => rejectDraft(d, reason) }, t("drafts.reject"));
    text.addEventListener("input", updateCounter);
    text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        if (!approve.disabled) approveDraft(d, text.value);
      } else if (event.key === "Escape") {
        list.focus();
      }
    });
    reason.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        rejectDraft(d, reason);
      } else if (event.key === "Escape") list.focus();
    });
    const provenance = el(
      "dl",
      { class: "kv", id: "provenance" },
      el("dt", { text: t("drafts.source") }), el("dd", { text: t(`drafts.source.${d.source}`, {}, d.source) }),
      el("dt", { text: t("drafts.kb_entry") }),
      el("dd", {}, d.kb_entry_id ? el("a", { href: `#/kb?community=${encodeURIComponent(d.community)}&entry=${encodeURIComponent(d.kb_entry_id)}`, text: d.kb_entry_id }) : t("drafts.kb_entry.none")),
      d.intent ? [el("dt", { text: t("drafts.intent") }), el("dd", { text: d.intent })] : null,
      el("dt", { text: t("queue.language") }), el("dd", { text: d.language }),
      el("dt", { text: t("drafts.created") }), el("dd", { text: dateTime(d.created_at) }),
    );
    const delivery = d.delivery
      ? el(
          "dl",
          { class: "kv", id: "delivery" },
          el("dt", { text: t("drafts.delivery.status") }), el("dd", {}, el("span", { class: `badge ${d.delivery.status}`, text: t(`drafts.status.${d.delivery.status}`, {}, d.delivery.status) })),
          d.delivery.platform_reply_id ? [el("dt", { text: t("drafts.delivery.id") }), el("dd", { class: "mono", text: d.delivery.platform_reply_id })] : null,
          d.delivery.reason ? [el("dt", { text: t("drafts.delivery.reason") }), el("dd", { text: t(`reason.${d.delivery.reason}`, {}, d.delivery.reason) })] : null,
          d.delivery.delivered_at ? [el("dt", { text: t("drafts.delivery.at") }), el("dd", { text: dateTime(d.delivery.delivered_at) })] : null,
          d.reviewer ? [el("dt", { text: t("drafts.reviewer") }), el("dd", { text: d.reviewer })] : null,
        )
      : el("p", { class: "help", id: "delivery", text: d.status === "rejected" ? t("drafts.rejected", { reason: d.reject_reason || "" }) : t("drafts.delivery.none") });
    put(detail, 
      el("h2", { id: "draft-title", text: t("drafts.detail", { n: state.index + 1, total: state.items.length }) }),
      el("p", { class: "context" }, `${d.platform} · ${d.community} · ${t("queue.thread")} ${d.thread_id} · ${t("queue.comment")} ${d.comment_id}`),
      el("h3", { text: t("drafts.comment") }),
      el("blockquote", { class: "comment", id: "draft-comment", text: d.comment_text }),
      el("h3", { text: t("drafts.provenance") }),
      provenance,
      el("label", { for: "draft-text", text: t(editable ? "drafts.edit" : "drafts.sent") }),
      text,
      counter,
      el("div", { class: "actions" }, approve),
      editable ? el("div", {}, el("label", { for: "reject-reason", text: t("drafts.reject.reason") }), reason, el("div", { class: "actions" }, reject)) : null,
      el("h3", { text: t("drafts.delivery") }),
      delivery,
    );
    updateCounter();
  }

  async function approveDraft(d, text) {
    if (state.busy) return;
    state.busy = true;
    const edited = text !== d.text;
    try {
      const updated = await api("responder", `drafts/${seg(d.id)}/approve`, { method: "POST", body: edited ? { text } : undefined });
      announce(t(edited ? "drafts.edited" : "drafts.approved"));
      showError("");
      replace(updated);
      follow(updated.id);
    } catch (error) {
      showError(error.status === 409 ? t("drafts.conflict", { detail: error.detail }) : errorText(error));
    } finally {
      state.busy = false;
      renderDetail();
    }
  }

  async function rejectDraft(d, reasonInput) {
    const reason = reasonInput.value.trim();
    if (!reason) {
      showError(t("drafts.reject.needs_reason"));
      reasonInput.focus();
      return;
    }
    if (state.busy) return;
    state.busy = true;
    try {
      replace(await api("responder", `drafts/${seg(d.id)}/reject`, { method: "POST", body: { reason } }));
      announce(t("drafts.rejected.done"));
      showError("");
    } catch (error) {
      showError(errorText(error));
    } finally {
      state.busy = false;
      renderDetail();
    }
  }

  function replace(updated) {
    const i = state.items.findIndex((item) => item.id === updated.id);
    if (i >= 0) state.items[i] = updated;
    render();
  }

  // An approved draft is posted by the responder's dispatcher: its fate is polled, not reloaded.
  function follow(id) {
    if (state.polls.has(id)) return;
    let tries = 0;
    const timer = setInterval(async () => {
      tries += 1;
      try {
        const d = await api("responder", `drafts/${seg(id)}`);
        if (SETTLED.has(d.status) || tries >= 60) {
          clearInterval(timer);
          state.polls.delete(id);
          replace(d);
          if (SETTLED.has(d.status)) {
            const reason = d.delivery?.reason || "";
            announce(t(`drafts.delivered.${d.status}`, { reason: t(`reason.${reason}`, {}, reason) }, d.status));
          }
        }
      } catch (error) {
        clearInterval(timer);
        state.polls.delete(id);
        showError(errorText(error));
      }
    }, 1000);
    state.polls.set(id, timer);
  }

  load();

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
        case "e":
          document.getElementById("draft-text")?.focus();
          return true;
        case "a": {
          const d = state.items[state.index];
          const button = document.getElementById("approve-draft");
          if (d && button && !button.disabled) approveDraft(d, document.getElementById("draft-text").value);
          return true;
        }
        case "x":
          document.getElementById("reject-reason")?.focus();
          return true;
        default:
          return false;
      }
    },
    unmount() {
      for (const timer of state.polls.values()) clearInterval(timer);
    },
  };
}
