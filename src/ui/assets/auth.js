// Who is looking: the owner (controls shown) or a visitor (gallery and live view only).
// GET /api/auth/status decides; a visitor logs in with the owner's token (POST
// /api/auth/login sets an HttpOnly cookie). A link with #token=… or #pair=… (from
// `wanda auth owner` or "Pair a phone") logs in by itself and is then removed from the
// address bar. The owner can make a one-time pairing code and show it as a QR code.

import { get, post } from "./api.js";
import { $, busy, notify, showError } from "./dom.js";
import { drawQr } from "./qr.js";

let current = { owner: false };

/** The last status: `{owner, via, credential, login_configured}`. */
export function status() {
  return current;
}

function apply(s) {
  current = s;
  const root = document.documentElement;
  root.dataset.access = s.owner ? "owner" : "visitor";
  $("login-btn").hidden = s.owner;
  $("logout-btn").hidden = !(s.owner && s.via === "login");
  $("pair-btn").hidden = !(s.owner && s.login_configured);
  $("access-note").textContent = s.owner
    ? (s.via === "local" ? "owner (this device)" : `owner (${s.credential || "credential"})`)
    : "visitor: read-only";
}

/** Reads the status again. */
export async function refresh() {
  try {
    apply(await get("/api/auth/status"));
  } catch (e) {
    apply({ owner: false });
  }
}

async function login(body) {
  const s = await post("/api/auth/login", body);
  apply(s);
  notify("Logged in", "You control this telescope from this browser now.", "info");
  window.dispatchEvent(new CustomEvent("wanda:access", { detail: s }));
}

/** A token or pairing code in the address bar: log in with it, then forget it. */
async function fromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token");
  const code = params.get("pair");
  if (!token && !code) return;
  history.replaceState(null, "", location.pathname + location.search);
  try {
    await login(token ? { secret: token } : { pair_code: code });
  } catch (e) {
    showError(e);
  }
}

function openLogin() {
  const d = $("login-dialog");
  if (!d.open) d.showModal();
  $("login-secret").focus();
}

async function pair() {
  const p = await post("/api/auth/pair");
  const url = p.urls[0] || `${location.origin}/#pair=${p.code}`;
  $("pair-url").textContent = url;
  $("pair-url").href = url;
  $("pair-others").textContent = p.urls.slice(1).join("  ");
  const css = getComputedStyle(document.documentElement);
  drawQr($("pair-qr"), url, {
    dark: css.getPropertyValue("--qr-dark").trim() || "#000",
    light: css.getPropertyValue("--qr-light").trim() || "#fff",
  });
  $("pair-dialog").showModal();
}

export async function init() {
  $("login-btn").addEventListener("click", openLogin);
  $("login-cancel").addEventListener("click", () => $("login-dialog").close());
  $("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    busy($("login-submit"), async () => {
      await login({ secret: $("login-secret").value });
      $("login-secret").value = "";
      $("login-dialog").close();
    });
  });
  $("logout-btn").addEventListener("click", () => busy($("logout-btn"), async () => {
    await post("/api/auth/logout");
    await refresh();
    notify("Logged out", "This browser is a visitor again.", "info");
  }));
  $("pair-btn").addEventListener("click", () => busy($("pair-btn"), pair));
  $("pair-close").addEventListener("click", () => $("pair-dialog").close());
  // a refused change: the login may have ended (credential changed, expired)
  window.addEventListener("wanda:auth-required", () => {
    refresh().then(() => { if (!current.owner) openLogin(); });
  });
  await fromFragment();
  await refresh();
}
