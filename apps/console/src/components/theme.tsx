"use client";

import { useEffect, useState } from "react";
import { MoonIcon, SunIcon } from "./icons";
import { Button } from "./ui";

type Scheme = "system" | "light" | "dark";
const KEY = "fulcrum.theme";
const EVENT = "fulcrum:theme";

function readScheme(): Scheme {
  const v = typeof window === "undefined" ? null : window.localStorage.getItem(KEY);
  return v === "light" || v === "dark" ? v : "system";
}

/** Applies the chosen scheme (or the OS one) as the `.dark` class that globals.css keys `dark:` on. */
export function useColorScheme() {
  useEffect(() => {
    const mq = window.matchMedia("(prefers-color-scheme: dark)");
    const apply = () => {
      const scheme = readScheme();
      document.documentElement.classList.toggle(
        "dark",
        scheme === "dark" || (scheme === "system" && mq.matches),
      );
    };
    apply();
    mq.addEventListener("change", apply);
    window.addEventListener(EVENT, apply);
    window.addEventListener("storage", apply);
    return () => {
      mq.removeEventListener("change", apply);
      window.removeEventListener(EVENT, apply);
      window.removeEventListener("storage", apply);
    };
  }, []);
}

const NEXT: Record<Scheme, Scheme> = { system: "light", light: "dark", dark: "system" };

/** Cycles system → light → dark; the choice is remembered in this browser. */
export function ThemeToggle() {
  const [scheme, setScheme] = useState<Scheme>("system");
  useEffect(() => setScheme(readScheme()), []);
  function cycle() {
    const next = NEXT[scheme];
    if (next === "system") window.localStorage.removeItem(KEY);
    else window.localStorage.setItem(KEY, next);
    setScheme(next);
    window.dispatchEvent(new Event(EVENT));
  }
  return (
    <Button size="sm" variant="ghost" onClick={cycle} title={`Colour scheme: ${scheme} (click to change)`}>
      {scheme === "dark" ? <MoonIcon /> : <SunIcon />}
      <span className="hidden lg:inline">
        {scheme === "system" ? "Auto" : scheme === "dark" ? "Dark" : "Light"}
      </span>
      <span className="sr-only lg:hidden">Colour scheme {scheme}</span>
    </Button>
  );
}
