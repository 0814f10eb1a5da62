"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { formatDate, useNow } from "../../lib/format";
import { useTRPC } from "../../lib/trpc";
import { mergeErrors, validate } from "../../lib/validate";
import { caBundleUploadInput } from "../../server/domain/certificates/schemas";
import { FormActions, FormError, TextField } from "../form";
import { Button, Card, ConfirmButton, Table, Td, Th } from "../ui";
import { ExpiryBadge } from "./expiry";
import { PemField } from "./pem-field";

const SHOWN = ["name", "pem"] as const;

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
    <section className="mt-8" aria-label="Trusted CAs">
      <div className="mb-3 flex items-center justify-between">
        <h2 className="text-sm font-semibold">Trusted CAs</h2>
        {mayWrite ? (
          <Button onClick={() => setOpen((v) => !v)} aria-expanded={open}>
            Upload CA bundle
          </Button>
        ) : null}
      </div>
      <p className="mb-3 text-xs text-zinc-500 dark:text-zinc-400">
        CA certificates that pools with TLS to backends verify the backends' certificates against.
      </p>
      {open ? (
        <Card className="mb-4 p-5">
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
        </Card>
      ) : null}
      {rows.data && rows.data.length > 0 ? (
        <Card>
          <Table>
            <thead>
              <tr>
                <Th>Name</Th>
                <Th>Certificates</Th>
                <Th>Fingerprint</Th>
                <Th>First expiry</Th>
                <Th>Used by</Th>
                <Th />
              </tr>
            </thead>
            <tbody>
              {rows.data.map((b) => (
                <tr key={b.id} data-testid={`ca-bundle-${b.name}`}>
                  <Td className="text-[13px] font-medium">{b.name}</Td>
                  <Td className="text-xs">
                    {b.subjects.map((s) => (
                      <div key={s}>{s}</div>
                    ))}
                  </Td>
                  <Td>
                    <span className="font-mono text-xs" title={`SHA-256 of the PEM ${b.fingerprint}`}>
                      {b.fingerprint.slice(0, 8)}…{b.fingerprint.slice(-4)}
                    </span>
                  </Td>
                  <Td className="whitespace-nowrap text-[13px]">
                    <ExpiryBadge notAfter={b.notAfter} now={now} />
                    <div className="text-xs text-zinc-500 dark:text-zinc-400">{formatDate(b.notAfter)}</div>
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
                      <ConfirmButton
                        title={`Delete ${b.name}?`}
                        confirmLabel="Delete"
                        body={
                          b.usedBy.length > 0
                            ? "Pools verify against it: change their TLS settings first, or the console refuses."
                            : "This cannot be undone."
                        }
                        onConfirm={async () => {
                          await remove.mutateAsync({ id: b.id });
                          await refresh();
                        }}
                      >
                        Delete<span className="sr-only"> {b.name}</span>
                      </ConfirmButton>
                    ) : null}
                  </Td>
                </tr>
              ))}
            </tbody>
          </Table>
        </Card>
      ) : null}
    </section>
  );
}
