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
  /** Stays until updated or dismissed (something still in progress, e.g. a rollout). */
  persist?: boolean;
}

type ToastInput = Omit<Toast, "id">;

/** A shown toast: follow-up news replaces its content (and restarts its timer). */
export interface ToastHandle {
  update(toast: ToastInput): void;
  dismiss(): void;
}

type ShowToast = (toast: ToastInput) => ToastHandle;

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

const lifetime = (t: ToastInput) => (t.tone === "error" ? 9000 : t.action ? 8000 : 4500);

/** Results of actions, in the corner: they stack, go away after a few seconds, and are announced. */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);
  const timers = useRef(new Map<number, ReturnType<typeof setTimeout>>());
  /** Ids on screen (the four newest), known synchronously. */
  const shown = useRef<number[]>([]);
  const dismiss = useCallback((id: number) => {
    clearTimeout(timers.current.get(id));
    timers.current.delete(id);
    shown.current = shown.current.filter((x) => x !== id);
    setToasts((list) => list.filter((t) => t.id !== id));
  }, []);
  const schedule = useCallback(
    (id: number, toast: ToastInput) => {
      clearTimeout(timers.current.get(id));
      timers.current.delete(id);
      if (!toast.persist)
        timers.current.set(
          id,
          setTimeout(() => dismiss(id), lifetime(toast)),
        );
    },
    [dismiss],
  );
  const show = useCallback<ShowToast>(
    (toast) => {
      let id = nextId.current++;
      shown.current = [...shown.current.slice(-3), id];
      setToasts((list) => [...list.slice(-3), { ...toast, id }]);
      schedule(id, toast);
      return {
        update: (next) => {
          if (!shown.current.includes(id)) {
            // Dismissed or pushed out meanwhile: the news comes as a toast of its own.
            id = nextId.current++;
            shown.current = [...shown.current.slice(-3), id];
            setToasts((list) => [...list.slice(-3), { ...next, id }]);
          } else {
            setToasts((list) => list.map((t) => (t.id === id ? { ...next, id } : t)));
          }
          schedule(id, next);
        },
        dismiss: () => dismiss(id),
      };
    },
    [dismiss, schedule],
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
            data-tone={t.tone}
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

const noopHandle: ToastHandle = { update() {}, dismiss() {} };
function noop(): ToastHandle {
  return noopHandle;
}
