// Every call goes through the console's same-origin proxy with the signed-in token; the services
// decide what that token may see and do.
const TOKEN_KEY = "vigie.token";

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

function describe(body) {
  if (body == null) return "";
  if (typeof body === "string") return body;
  const detail = body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    // FastAPI validation errors: where and what, one per line.
    return detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("\n");
  }
  return JSON.stringify(body);
}

export async function api(service, path, { method = "GET", query, body, accept = "application/json", signal } = {}) {
  const url = new URL(`/api/${service}/v1/${path}`, location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const headers = { Accept: accept };
  const current = token();
  if (current) headers.Authorization = `Bearer ${current}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
    cache: "no-store",
    credentials: "omit",
  });
  const type = response.headers.get("content-type") || "";
  const payload = type.includes("json") ? await response.json().catch(() => null) : await response.text();
  if (!response.ok) {
    const error = new ApiError(response.status, describe(payload));
    if (response.status === 401) document.dispatchEvent(new CustomEvent("vigie:unauthorized"));
    throw error;
  }
  return payload;
}

// Path segments (communities, ids) may hold any character: each is escaped on its own.
export function seg(value) {
  return encodeURIComponent(value);
}
