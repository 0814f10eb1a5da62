"use client";

import {
  type ListenerTls,
  listenerTlsSchema,
  MAX_HSTS_MAX_AGE_SECONDS,
  type RedirectToHttps,
} from "@fulcrum/protocol";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { useNow } from "../../lib/format";
import { useTRPC } from "../../lib/trpc";
import { numberOrUndefined } from "../../lib/validate";
import { ExpiryBadge } from "../certificates/expiry";
import { CheckboxField, SelectField, TextField } from "../form";
import { TlsMinVersionField } from "../tls-min-version-field";
import { HttpsRedirectFields } from "./listener-https-redirect-fields";

export const LISTENER_TLS_FIELDS = [
  "tls",
  "tls.certificateIds",
  "tls.defaultCertificateId",
  "tls.unknownName",
  "tls.minVersion",
  "tls.hsts.maxAgeSeconds",
] as const;

/** A stored listener's TLS, or null when it serves plain HTTP (or holds something unreadable). */
export function readListenerTls(value: unknown): ListenerTls | null {
  const parsed = listenerTlsSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** The form's TLS section as the listener input's `tls` (null: plain HTTP). The schema checks the rest. */
export function listenerTlsFromForm(f: FormData) {
  if (f.get("tlsEnabled") !== "on") return null;
  const hsts =
    f.get("hstsEnabled") === "on"
      ? {
          maxAgeSeconds: numberOrUndefined(f.get("hstsMaxAge")) ?? Number.NaN,
          includeSubDomains: f.get("hstsIncludeSubDomains") === "on",
          preload: f.get("hstsPreload") === "on",
        }
      : null;
  return {
    certificateIds: f.getAll("tlsCertificate").map(String),
    defaultCertificateId: String(f.get("tlsDefault") ?? ""),
    unknownName: String(f.get("tlsUnknownName") ?? "default") as "default" | "reject",
    minVersion: String(f.get("tlsMinVersion") ?? "TLSv1.2") as "TLSv1.2" | "TLSv1.3",
    hsts,
  };
}

/**
 * HTTPS on an HTTP listener: which of the cluster's certificates it serves
 * (SNI picks by name: exact, then wildcard, then the default), what a name
 * none matches gets, the oldest TLS version accepted, and HSTS. Without TLS,
 * the listener may instead send every request to HTTPS (`redirect`, a setting).
 */
export function ListenerTlsFields({
  clusterId,
  value,
  redirect,
  errors,
}: {
  clusterId: string;
  value: ListenerTls | null;
  redirect: RedirectToHttps | null;
  errors: Record<string, string>;
}) {
  const trpc = useTRPC();
  const now = useNow(60_000);
  const certificates = useQuery(trpc.certificate.list.queryOptions({ clusterId }));
  const [enabled, setEnabled] = useState(value !== null);
  const [selected, setSelected] = useState<string[]>(value?.certificateIds ?? []);
  const [defaultId, setDefaultId] = useState(value?.defaultCertificateId ?? "");
  const [hsts, setHsts] = useState(value?.hsts != null);
  const effectiveDefault = selected.includes(defaultId) ? defaultId : (selected[0] ?? "");
  const list = certificates.data ?? [];

  return (
    <fieldset className="rounded-md border border-zinc-200 p-3 dark:border-zinc-800" aria-label="TLS">
      <CheckboxField
        label="Terminate TLS (HTTPS)"
        name="tlsEnabled"
        checked={enabled}
        onChange={(e) => setEnabled(e.currentTarget.checked)}
        hint="Clients connect with HTTPS; the agent decrypts and routes as for HTTP."
      />
      {errors.tls ? (
        <p role="alert" className="mt-1 text-xs text-red-600 dark:text-red-400">
          {errors.tls}
        </p>
      ) : null}
      {enabled ? (
        <div className="mt-3 space-y-3">
          <div>
            <div className="mb-1 text-[13px] font-medium text-zinc-700 dark:text-zinc-300">Certificates</div>
            {list.length === 0 ? (
              <p className="text-xs text-zinc-500 dark:text-zinc-400">
                This cluster has no certificates yet.{" "}
                <Link href="/certificates" className="text-indigo-600 hover:underline dark:text-indigo-400">
                  Upload one
                </Link>{" "}
                first.
              </p>
            ) : (
              <ul className="space-y-1">
                {list.map((c) => (
                  <li key={c.id} className="flex items-center gap-2">
                    <CheckboxField
                      label={c.name}
                      name="tlsCertificate"
                      value={c.id}
                      checked={selected.includes(c.id)}
                      onChange={(e) => {
                        const on = e.currentTarget.checked;
                        setSelected((s) => (on ? [...s, c.id] : s.filter((id) => id !== c.id)));
                      }}
                      hint={c.names.join(", ") || "no DNS names"}
                    />
                    <ExpiryBadge notAfter={c.notAfter} now={now} />
                  </li>
                ))}
              </ul>
            )}
            {errors["tls.certificateIds"] ? (
              <p role="alert" className="mt-1 text-xs text-red-600 dark:text-red-400">
                {errors["tls.certificateIds"]}
              </p>
            ) : null}
          </div>
          <div className="grid gap-3 sm:grid-cols-3">
            <SelectField
              label="Default certificate"
              name="tlsDefault"
              value={effectiveDefault}
              onChange={(e) => setDefaultId(e.currentTarget.value)}
              error={errors["tls.defaultCertificateId"]}
              hint="Served to clients without SNI."
            >
              {selected.length === 0 ? <option value="">Choose certificates first</option> : null}
              {list
                .filter((c) => selected.includes(c.id))
                .map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
            </SelectField>
            <SelectField
              label="Unknown names"
              name="tlsUnknownName"
              defaultValue={value?.unknownName ?? "default"}
              error={errors["tls.unknownName"]}
              hint="A name no certificate covers."
            >
              <option value="default">Serve the default certificate</option>
              <option value="reject">Fail the handshake</option>
            </SelectField>
            <TlsMinVersionField
              name="tlsMinVersion"
              value={value?.minVersion}
              error={errors["tls.minVersion"]}
            />
          </div>
          <CheckboxField
            label="Send HSTS (Strict-Transport-Security)"
            name="hstsEnabled"
            checked={hsts}
            onChange={(e) => setHsts(e.currentTarget.checked)}
            hint="Browsers then use HTTPS only for this host, for max-age seconds."
          />
          {hsts ? (
            <div className="grid gap-3 sm:grid-cols-3">
              <TextField
                label="HSTS max-age (s)"
                name="hstsMaxAge"
                type="number"
                min={0}
                max={MAX_HSTS_MAX_AGE_SECONDS}
                defaultValue={value?.hsts?.maxAgeSeconds ?? 31_536_000}
                error={errors["tls.hsts.maxAgeSeconds"]}
                hint="31536000 is one year."
              />
              <CheckboxField
                label="includeSubDomains"
                name="hstsIncludeSubDomains"
                defaultChecked={value?.hsts?.includeSubDomains ?? false}
              />
              <CheckboxField
                label="preload"
                name="hstsPreload"
                defaultChecked={value?.hsts?.preload ?? false}
              />
            </div>
          ) : null}
        </div>
      ) : (
        <HttpsRedirectFields value={redirect} errors={errors} />
      )}
    </fieldset>
  );
}
