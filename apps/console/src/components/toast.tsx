"use client";

import { createContext, type ReactNode, useCallback, useContext, useMemo, useRef, useState } from "react";
import { cx } from "./ui";

type ToastTone = "success" | "error" | "info";

interface Toast {
  id: number;
  tone: ToastTone;
  title: string;
  body?: ReactNode;
  action?: { label: string; onClick: () => void };
}

type ShowToast = (toast: Omit<Toast, "id">) => void;

const ToastContext = createContext<ShowToast | null>(null);

const TONE: Record<ToastTone, string> = {
  success: "border-emerald-300 dark:border-emerald-800",
  error: "border-red-300 dark:border-red-900",
  info: "border-zinc-200 dark:border-zinc-700",
};
const ICON: Record<ToastTone, string> = {
  success: "bg-emerald-500",
  error: "bg-red-500",
  info: "bg-indigo-500",
};

/** Results of actions, in the corner: they stack, go away after a few seconds, and are announced. */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);
  const dismiss = useCallback((id: number) => setToasts((list) => list.filter((t) => t.id !== id)), []);
  const show = useCallback<ShowToast>(
    (toast) => {
      const id = nextId.current++;
      setToasts((list) => [...list.slice(-3), { ...toast, id }]);
      setTimeout(() => dismiss(id), toast.tone === "error" ? 9000 : toast.action ? 8000 : 4500);
    },
    [dismiss],
  );
  const value = useMemo(() => show, [show]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <section
        aria-label="Notifications"
        aria-live="polite"
        className="pointer-events-none fixed bottom-4 right-4 z-50 flex w-80 max-w-[calc(100vw-2rem)] flex-col gap-2"
      >
        {toasts.map((t) => (
          <div
            key={t.id}
            role={t.tone === "error" ? "alert" : "status"}
            data-testid="toast"
            className={cx(
              "pointer-events-auto flex items-start gap-2.5 rounded-lg border bg-white px-3.5 py-3 text-sm shadow-lg dark:bg-zinc-900",
              TONE[t.tone],
            )}
          >
            <span aria-hidden className={cx("mt-1.5 h-2 w-2 shrink-0 rounded-full", ICON[t.tone])} />
            <div className="min-w-0 flex-1">
              <div className="font-medium">{t.title}</div>
              {t.body ? <div className="mt-0.5 text-zinc-500 dark:text-zinc-400">{t.body}</div> : null}
            </div>
            {t.action ? (
              <button
                type="button"
                onClick={() => {
                  t.action?.onClick();
                  dismiss(t.id);
                }}
                className="rounded px-1.5 py-0.5 text-xs font-semibold text-indigo-600 hover:bg-indigo-50 dark:text-indigo-400 dark:hover:bg-indigo-950"
              >
                {t.action.label}
              </button>
            ) : null}
            <button
              type="button"
              onClick={() => dismiss(t.id)}
              className="rounded px-1 text-zinc-400 hover:text-zinc-700 dark:hover:text-zinc-200"
            >
              <span aria-hidden>×</span>
              <span className="sr-only">Dismiss</span>
            </button>
          </div>
        ))}
      </section>
    </ToastContext.Provider>
  );
}

/** Shows a toast; outside the provider (tests of lone components) it does nothing. */
export function useToast(): ShowToast {
  return useContext(ToastContext) ?? noop;
}

function noop() {}
