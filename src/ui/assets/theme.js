// The red "night vision" theme: dark red on black, remembered in localStorage.

import { $ } from "./dom.js";

const KEY = "wanda.theme";

function apply(night) {
  document.documentElement.dataset.theme = night ? "night" : "day";
  const b = $("night-toggle");
  b.setAttribute("aria-pressed", String(night));
  b.textContent = night ? "Day" : "Night";
  document.querySelector('meta[name="color-scheme"]')?.setAttribute("content", "dark");
  document.dispatchEvent(new CustomEvent("wanda-theme", { detail: { night } }));
}

function stored() {
  try {
    return localStorage.getItem(KEY) === "night";
  } catch {
    return false;
  }
}

/** Applies the stored theme and wires the toggle. */
export function init() {
  apply(stored());
  $("night-toggle").addEventListener("click", () => {
    const night = document.documentElement.dataset.theme !== "night";
    try {
      localStorage.setItem(KEY, night ? "night" : "day");
    } catch {
      // private mode: the theme still switches for this page
    }
    apply(night);
  });
}

/** Whether the night theme is on. */
export function isNight() {
  return document.documentElement.dataset.theme === "night";
}
