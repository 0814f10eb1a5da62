"use client";

import { type ListenerHttp2, listenerHttp2Schema } from "@fulcrum/protocol";
import { useState } from "react";
import { numberOrUndefined } from "../../lib/validate";
import { CheckboxField, TextField } from "../form";

export const LISTENER_HTTP2_FIELDS = [
  "http2",
  "http2.h2",
  "http2.h2c",
  "http2.maxConcurrentStreams",
  "http2.maxHeaderListBytes",
  "http2.initialWindowBytes",
  "http2.idleMs",
] as const;

const DEFAULTS = listenerHttp2Schema.parse({});

/** A stored listener's HTTP/2 settings, or null when it speaks HTTP/1.1 only (or holds something unreadable). */
export function readListenerHttp2(value: unknown): ListenerHttp2 | null {
  if (value === null || value === undefined) return null;
  const parsed = listenerHttp2Schema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** The form's HTTP/2 section as the listener input's `http2` (null: HTTP/1.1 only). Empty numbers: NaN, refused by the schema. */
export function listenerHttp2FromForm(f: FormData): ListenerHttp2 | null {
  if (f.get("h2Enabled") !== "on") return null;
  const n = (name: string) => numberOrUndefined(f.get(name)) ?? Number.NaN;
  return {
    h2: f.get("h2Alpn") === "on",
    h2c: f.get("h2c") === "on",
    maxConcurrentStreams: n("h2MaxStreams"),
    maxHeaderListBytes: n("h2MaxHeaderList"),
    initialWindowBytes: n("h2Window"),
    idleMs: n("h2IdleMs"),
  };
}

/**
 * HTTP/2 on an HTTP listener: ALPN h2 when it terminates TLS, h2c (prior
 * knowledge) when it does not, and the per-connection limits that guard
 * against the HTTP/2 attacks (stream floods, HPACK bombs, stalled windows).
 */
export function ListenerHttp2Fields({
  value,
  errors,
}: {
  value: ListenerHttp2 | null;
  errors: Record<string, string>;
}) {
  const [enabled, setEnabled] = useState(value !== null);
  const v = value ?? DEFAULTS;
  return (
    <fieldset className="rounded-md border border-zinc-200 p-3 dark:border-zinc-800" aria-label="HTTP/2">
      <CheckboxField
        label="HTTP/2"
        name="h2Enabled"
        checked={enabled}
        onChange={(e) => setEnabled(e.currentTarget.checked)}
        hint="Clients may speak HTTP/2; every stream is routed, balanced and counted like an HTTP/1.1 request."
      />
      {errors.http2 ? (
        <p role="alert" className="mt-1 text-xs text-red-600 dark:text-red-400">
          {errors.http2}
        </p>
      ) : null}
      {enabled ? (
        <div className="mt-3 space-y-3">
          <div className="grid gap-3 sm:grid-cols-2">
            <CheckboxField
              label="Offer h2 by ALPN (HTTPS)"
              name="h2Alpn"
              defaultChecked={v.h2}
              hint="With TLS on: clients that offer h2 get HTTP/2, the others HTTP/1.1."
            />
            <CheckboxField
              label="Accept h2c (plain HTTP, prior knowledge)"
              name="h2c"
              defaultChecked={v.h2c}
              hint="Without TLS: a connection that opens with the HTTP/2 preface speaks HTTP/2."
            />
          </div>
          <div className="grid gap-3 sm:grid-cols-4">
            <TextField
              label="Streams per connection"
              name="h2MaxStreams"
              type="number"
              min={1}
              max={1000}
              defaultValue={v.maxConcurrentStreams}
              error={errors["http2.maxConcurrentStreams"]}
              hint="Open at once; 1–1000."
            />
            <TextField
              label="Header list (bytes)"
              name="h2MaxHeaderList"
              type="number"
              min={1024}
              max={1_048_576}
              defaultValue={v.maxHeaderListBytes}
              error={errors["http2.maxHeaderListBytes"]}
              hint="Decoded size; bounds HPACK bombs."
            />
            <TextField
              label="Stream window (bytes)"
              name="h2Window"
              type="number"
              min={65_535}
              max={16_777_215}
              defaultValue={v.initialWindowBytes}
              error={errors["http2.initialWindowBytes"]}
              hint="Flow-control window per stream."
            />
            <TextField
              label="Idle timeout (ms)"
              name="h2IdleMs"
              type="number"
              min={1000}
              max={3_600_000}
              defaultValue={v.idleMs}
              error={errors["http2.idleMs"]}
              hint="A connection without streams closes."
            />
          </div>
        </div>
      ) : null}
    </fieldset>
  );
}
