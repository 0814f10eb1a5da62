"use client";

import {
  BACKEND_TLS_SNI_MODES,
  type BackendTls,
  type BackendTlsSni,
  type BackendTlsVerify,
  backendTlsSchema,
  type TlsMinVersion,
} from "@fulcrum/protocol";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "../../lib/trpc";
import { CheckboxField, Fieldset, SelectField, TextField } from "../form";
import { TlsMinVersionField } from "../tls-min-version-field";

/** Stored TLS settings, or null (plain TCP, or a stored value the protocol no longer accepts). */
export function readBackendTls(stored: unknown): BackendTls | null {
  if (stored === null || stored === undefined) return null;
  const parsed = backendTlsSchema.safeParse(stored);
  return parsed.success ? parsed.data : null;
}

/** The fields below, read back from a submitted form; null when TLS is off. */
export function backendTlsFromForm(f: FormData): BackendTls | null {
  if (f.get("btEnabled") !== "on") return null;
  const verify = String(f.get("btVerify") ?? "system") as BackendTlsVerify;
  const sni = String(f.get("btSni") ?? "backend") as BackendTlsSni;
  const client = String(f.get("btClient") ?? "");
  return {
    verify,
    caBundleId: verify === "ca" ? String(f.get("btCa") ?? "") : null,
    sni,
    sniName: sni === "fixed" ? String(f.get("btSniName") ?? "").trim() : null,
    clientCertificateId: client === "" ? null : client,
    minVersion: String(f.get("btMinVersion") ?? "TLSv1.2") as TlsMinVersion,
  };
}

export const BACKEND_TLS_FIELDS = [
  "tls.verify",
  "tls.caBundleId",
  "tls.sni",
  "tls.sniName",
  "tls.clientCertificateId",
  "tls.minVersion",
] as const;

const SNI_LABELS: Record<BackendTlsSni, string> = {
  backend: "The backend's host name",
  fixed: "A fixed name",
  none: "None",
};

/** "TLS to backends": verify mode, CA bundle, SNI, client certificate (mTLS), minimum version. */
export function BackendTlsFields({
  clusterId,
  value,
  errors,
}: {
  clusterId: string;
  value: BackendTls | null;
  errors: Record<string, string>;
}) {
  const trpc = useTRPC();
  const bundles = useQuery(trpc.certificate.caList.queryOptions({ clusterId }));
  const certificates = useQuery(trpc.certificate.list.queryOptions({ clusterId }));
  const [enabled, setEnabled] = useState(value !== null);
  const [verify, setVerify] = useState<BackendTlsVerify>(value?.verify ?? "system");
  const [sni, setSni] = useState<BackendTlsSni>(value?.sni ?? "backend");
  return (
    <Fieldset legend="TLS to backends">
      <CheckboxField
        label="Connect to the backends over TLS"
        name="btEnabled"
        checked={enabled}
        onChange={(e) => setEnabled(e.target.checked)}
        hint="Health checks use the same TLS settings. Kept-alive connections resume TLS sessions."
      />
      {enabled ? (
        <div className="mt-3 grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
          <SelectField
            label="Verify the backend's certificate"
            name="btVerify"
            value={verify}
            onChange={(e) => setVerify(e.target.value as BackendTlsVerify)}
            error={errors["tls.verify"]}
            hint={
              verify === "none"
                ? "Insecure: anyone on the path can pose as the backend."
                : "The certificate must chain to a trusted CA and carry the name checked (the SNI, else the address)."
            }
          >
            <option value="system">Against the system's root CAs</option>
            <option value="ca">Against an uploaded CA bundle</option>
            <option value="none">Do not verify (insecure)</option>
          </SelectField>
          <SelectField
            label="CA bundle"
            name="btCa"
            defaultValue={value?.caBundleId ?? ""}
            disabled={verify !== "ca"}
            error={errors["tls.caBundleId"]}
            hint="Upload bundles under Certificates → Trusted CAs."
          >
            <option value="">Choose a bundle…</option>
            {(bundles.data ?? []).map((b) => (
              <option key={b.id} value={b.id}>
                {b.name}
              </option>
            ))}
          </SelectField>
          <TlsMinVersionField
            name="btMinVersion"
            value={value?.minVersion}
            error={errors["tls.minVersion"]}
          />
          <SelectField
            label="SNI"
            name="btSni"
            value={sni}
            onChange={(e) => setSni(e.target.value as BackendTlsSni)}
            error={errors["tls.sni"]}
            hint="A backend given by IP address gets no SNI with “host name”."
          >
            {BACKEND_TLS_SNI_MODES.map((m) => (
              <option key={m} value={m}>
                {SNI_LABELS[m]}
              </option>
            ))}
          </SelectField>
          <TextField
            label="SNI name"
            name="btSniName"
            defaultValue={value?.sniName ?? ""}
            disabled={sni !== "fixed"}
            placeholder="backend.internal"
            autoComplete="off"
            error={errors["tls.sniName"]}
          />
          <SelectField
            label="Client certificate (mTLS)"
            name="btClient"
            defaultValue={value?.clientCertificateId ?? ""}
            error={errors["tls.clientCertificateId"]}
            hint="A certificate from the Certificates page, presented to backends that ask for one."
          >
            <option value="">None</option>
            {(certificates.data ?? []).map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </SelectField>
        </div>
      ) : null}
    </Fieldset>
  );
}
