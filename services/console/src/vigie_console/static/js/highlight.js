// The words a decision names, found again in the comment as the moderator's policy finds them:
// case, accents and look-alike digits folded, repeated letters squeezed (see the moderator's terms.py).
const LEET = { 0: "o", 1: "i", "!": "i", 3: "e", 4: "a", "@": "a", 5: "s", $: "s", 7: "t", "+": "t" };

export function fold(text) {
  return text
    .toLowerCase()
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .replace(/[0134@5$7!+]/g, (ch) => LEET[ch]);
}

export function squeeze(word) {
  return word.replace(/[^\p{L}]/gu, "").replace(/(.)\1+/gu, "$1");
}

// "toxicity 0.93 >= hide threshold (terms: idiot, stupid)" and "rule 'x' matched: a, 'b c'".
export function termsOf(reasons) {
  const terms = new Set();
  for (const reason of reasons || []) {
    const named = reason.match(/\(terms: ([^)]*)\)/) || reason.match(/matched: (.*)$/);
    if (!named) continue;
    for (let term of named[1].split(",")) {
      term = term.trim().replace(/^'(.*)'$/, "$1").replace(/^"(.*)"$/, "$1");
      if (term) terms.add(term);
    }
  }
  return [...terms];
}

// Returns [text, isMatch] runs over the original text: single words and multi-word phrases.
export function runs(text, terms) {
  const tokens = [...text.matchAll(/[\p{L}\p{N}_@$!+]+/gu)].map((m) => ({
    start: m.index,
    end: m.index + m[0].length,
    key: squeeze(fold(m[0])),
  }));
  const wanted = terms
    .map((term) => term.split(/\s+/).map((part) => squeeze(fold(part))).filter(Boolean))
    .filter((parts) => parts.length);
  // Each token remembers which match covers it, so two neighbouring hits stay two marks.
  const marked = new Array(tokens.length).fill(-1);
  let matchId = 0;
  for (const parts of wanted) {
    for (let i = 0; i + parts.length <= tokens.length; i++) {
      if (parts.every((part, j) => tokens[i + j].key === part)) {
        for (let j = 0; j < parts.length; j++) marked[i + j] = matchId;
        matchId += 1;
      }
    }
  }
  // Letters spelt out one by one ("i d i o t") read as one word, as the policy reads them.
  const single = new Set(wanted.filter((parts) => parts.length === 1).map(([word]) => word));
  for (let i = 0; i < tokens.length; ) {
    let j = i;
    while (j < tokens.length && tokens[j].key.length === 1) j++;
    if (j - i >= 3 && single.has(squeeze(tokens.slice(i, j).map((token) => token.key).join("")))) {
      for (let k = i; k < j; k++) marked[k] = matchId;
      matchId += 1;
    }
    i = Math.max(j, i + 1);
  }
  const out = [];
  let cursor = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (marked[i] < 0) continue;
    let j = i;
    while (j + 1 < tokens.length && marked[j + 1] === marked[i]) j++;
    if (tokens[i].start > cursor) out.push([text.slice(cursor, tokens[i].start), false]);
    out.push([text.slice(tokens[i].start, tokens[j].end), true]);
    cursor = tokens[j].end;
    i = j;
  }
  if (cursor < text.length) out.push([text.slice(cursor), false]);
  return out;
}

export function highlighted(text, reasons) {
  const fragment = document.createDocumentFragment();
  for (const [part, match] of runs(text, termsOf(reasons))) {
    if (match) {
      const mark = document.createElement("mark");
      mark.textContent = part;
      fragment.append(mark);
    } else {
      fragment.append(document.createTextNode(part));
    }
  }
  return fragment;
}
