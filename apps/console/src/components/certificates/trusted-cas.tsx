"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useNow } from "../../lib/format";
import { useTRPC } from "../../lib/trpc";
import { mergeErrors, validate } from "../../lib/validate";
import { caBundleUploadInput } from "../../server/domain/certificates/schemas";
import { FormActions, FormError, TextField } from "../form";
import { Button, DeleteButton, Td } from "../ui";
import { ExpiryWithDate } from "./expiry";
import { Fingerprint } from "./fingerprint";
import { PemField } from "./pem-field";
import { CertificateSection, CertificateTable } from "./section";

const SHOWN = ["name", "pem"] as const;
const COLUMNS = ["Name", "Certificates", "Fingerprint", "First expiry", "Used by"] as const;

/**
 * Trusted CAs: bundles that pools verify their backends' certificates
 * against (a pool's "TLS to backends" section picks one). Public: the PEM is
 * shown; snapshots and history name a bundle by its fingerprint.
 */
export function TrustedCas({ clusterId, mayWrite }: { clusterId: string; mayWrite: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const now = useNow(60_000);
  const rows = useQuery(trpc.certificate.caList.queryOptions({ clusterId }));
  const upload = useMutation(trpc.certificate.caUpload.mutationOptions());
  const remove = useMutation(trpc.certificate.caDelete.mutationOptions());
  const [open, setOpen] = useState(false);
  const [clientErrors, setClientErrors] = useState<Record<string, string> | null>(null);
  const errors = mergeErrors(clientErrors, upload.error);
  const refresh = () =>
    queryClient.invalidateQueries({ queryKey: trpc.certificate.caList.queryKey({ clusterId }) });

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const input = { clusterId, name: String(f.get("name") ?? ""), pem: String(f.get("pem") ?? "") };
    const invalid = validate(caBundleUploadInput, input);
    setClientErrors(invalid);
    if (invalid) return;
    try {
      await upload.mutateAsync(input);
    } catch {
      return; // shown under the fields
    }
    await refresh();
    setOpen(false);
  }

  return (
    <CertificateSection
      label="Trusted CAs"
      heading="Trusted CAs"
      openLabel="Upload CA bundle"
      mayWrite={mayWrite}
      open={open}
      setOpen={setOpen}
      intro="CA certificates that pools with TLS to backends verify the backends' certificates against."
      form={
        <form onSubmit={onSubmit} noValidate className="space-y-4" aria-label="Upload a CA bundle">
          <TextField label="Name" name="name" autoComplete="off" error={errors.name} className="max-w-sm" />
          <PemField
            label="CA certificates (PEM)"
            name="pem"
            error={errors.pem}
            placeholder={"-----BEGIN CERTIFICATE-----\n…"}
            hint="One or more CERTIFICATE blocks (no keys), none expired."
          />
          <FormError error={upload.error} fields={errors} shown={SHOWN} />
          <FormActions>
            <Button onClick={() => setOpen(false)}>Cancel</Button>
            <Button type="submit" variant="primary" disabled={upload.isPending}>
              {upload.isPending ? "Checking…" : "Upload CA bundle"}
            </Button>
          </FormActions>
        </form>
      }
    >
      {rows.data && rows.data.length > 0 ? (
        <CertificateTable columns={COLUMNS}>
          {rows.data.map((b) => (
            <tr key={b.id} data-testid={`ca-bundle-${b.name}`}>
              <Td className="text-[13px] font-medium">{b.name}</Td>
              <Td className="text-xs">
                {b.subjects.map((s) => (
                  <div key={s}>{s}</div>
                ))}
              </Td>
              <Td>
                <Fingerprint value={b.fingerprint} of="the PEM" />
              </Td>
              <Td className="whitespace-nowrap text-[13px]">
                <ExpiryWithDate notAfter={b.notAfter} now={now} />
              </Td>
              <Td className="text-[13px]">
                {b.usedBy.length === 0 ? (
                  <span className="text-xs text-zinc-400">unused</span>
                ) : (
                  b.usedBy.map((u) => <div key={u.poolId}>pool {u.poolName}</div>)
                )}
              </Td>
              <Td className="text-right">
                {mayWrite ? (
                  <DeleteButton
                    name={b.name}
                    body={
                      b.usedBy.length > 0
                        ? "Pools verify against it: change their TLS settings first, or the console refuses."
                        : "This cannot be undone."
                    }
                    onDelete={async () => {
                      await remove.mutateAsync({ id: b.id });
                      await refresh();
                    }}
                  />
                ) : null}
              </Td>
            </tr>
          ))}
        </CertificateTable>
      ) : null}
    </CertificateSection>
  );
}
