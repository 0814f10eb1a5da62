"use client";

import { type PoolUpstream, poolUpstreamSchema, type UpstreamProtocol } from "@fulcrum/protocol";
import { useState } from "react";
import { numberOrUndefined } from "../../lib/validate";
import { Fieldset, SelectField, TextField } from "../form";

export const UPSTREAM_FIELDS = ["upstream", "upstream.protocol", "upstream.maxStreamsPerConnection"] as const;

const DEFAULTS = poolUpstreamSchema.parse({});

const LABELS: Record<UpstreamProtocol, string> = {
  http1: "HTTP/1.1",
  h2: "HTTP/2 over TLS (h2)",
  h2c: "HTTP/2 without TLS (h2c)",
};
const HINTS: Record<UpstreamProtocol, string> = {
  http1: "One request at a time per backend connection.",
  h2: "Needs TLS to backends (below); many streams share one connection. gRPC backends use this or h2c.",
  h2c: "Clear-text HTTP/2 with prior knowledge; TLS to backends must be off.",
};

/** A stored pool's upstream settings (HTTP/1.1 when unset or unreadable). */
export function readUpstream(stored: unknown): PoolUpstream {
  if (stored === null || stored === undefined) return DEFAULTS;
  const parsed = poolUpstreamSchema.safeParse(stored);
  return parsed.success ? parsed.data : DEFAULTS;
}

/** The form's choice as the pool input's `upstream`: null for HTTP/1.1, so such pools hash as before. */
export function upstreamFromForm(f: FormData): PoolUpstream | null {
  const protocol = String(f.get("upProtocol") ?? "http1") as UpstreamProtocol;
  if (protocol === "http1") return null;
  return { protocol, maxStreamsPerConnection: numberOrUndefined(f.get("upMaxStreams")) ?? Number.NaN };
}

/** "Upstream protocol": HTTP/1.1, HTTP/2 over TLS or h2c to the backends, and the stream cap per connection. */
export function UpstreamFields({ value, errors }: { value: PoolUpstream; errors: Record<string, string> }) {
  const [protocol, setProtocol] = useState<UpstreamProtocol>(value.protocol);
  return (
    <Fieldset legend="Upstream protocol">
      <div className="grid gap-3 sm:grid-cols-2">
        <SelectField
          label="Protocol to backends"
          name="upProtocol"
          value={protocol}
          onChange={(e) => setProtocol(e.currentTarget.value as UpstreamProtocol)}
          error={errors["upstream.protocol"] ?? errors.upstream}
          hint={HINTS[protocol]}
        >
          {(Object.keys(LABELS) as UpstreamProtocol[]).map((p) => (
            <option key={p} value={p}>
              {LABELS[p]}
            </option>
          ))}
        </SelectField>
        <TextField
          label="Streams per connection"
          name="upMaxStreams"
          type="number"
          min={1}
          max={1000}
          defaultValue={value.maxStreamsPerConnection}
          disabled={protocol === "http1"}
          error={errors["upstream.maxStreamsPerConnection"]}
          hint="More requests open another connection to the backend."
        />
      </div>
    </Fieldset>
  );
}
