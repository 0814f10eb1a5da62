"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { formatDate } from "../../lib/format";
import { useTRPC } from "../../lib/trpc";
import { mergeErrors } from "../../lib/validate";
import { FormActions, FormError, SelectField, TextField } from "../form";
import { Badge, Button, DeleteButton, Td } from "../ui";
import { CertificateSection, CertificateTable } from "./section";

const STATUS_TONE = { pending: "indigo", valid: "green", renewing: "amber", failed: "red" } as const;
const SHOWN = ["name", "listenerId", "names"] as const;
const COLUMNS = ["Name", "Names", "Status", "Last error", "Next attempt"] as const;

/**
 * Automatic (ACME) certificates: the create form (a listener whose route hosts
 * become the names, or the names themselves), and per entry its status, last
 * error and next attempt. The console's scheduler does the work (domain/acme).
 */
export function AcmeCertificates({ clusterId, mayWrite }: { clusterId: string; mayWrite: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const rows = useQuery({ ...trpc.certificate.acmeList.queryOptions({ clusterId }), refetchInterval: 5000 });
  const listeners = useQuery(trpc.listener.list.queryOptions({ clusterId }));
  const create = useMutation(trpc.certificate.acmeCreate.mutationOptions());
  const renew = useMutation(trpc.certificate.acmeRenewNow.mutationOptions());
  const remove = useMutation(trpc.certificate.acmeDelete.mutationOptions());
  const [open, setOpen] = useState(false);
  const errors = mergeErrors(null, create.error);
  const refresh = () =>
    queryClient.invalidateQueries({ queryKey: trpc.certificate.acmeList.queryKey({ clusterId }) });

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const listenerId = String(f.get("listenerId") ?? "");
    const names = String(f.get("names") ?? "")
      .split(/[\s,]+/)
      .map((n) => n.trim().toLowerCase())
      .filter(Boolean);
    try {
      await create.mutateAsync({
        clusterId,
        name: String(f.get("name") ?? ""),
        ...(listenerId ? { listenerId } : {}),
        ...(names.length > 0 ? { names } : {}),
      });
    } catch {
      return; // shown under the fields
    }
    await refresh();
    setOpen(false);
  }

  const httpListeners = (listeners.data ?? []).filter((l: { protocol: string }) => l.protocol === "http");
  return (
    <CertificateSection
      label="Automatic (ACME) certificates"
      heading="Automatic (ACME)"
      openLabel="Automatic (ACME) certificate"
      mayWrite={mayWrite}
      open={open}
      setOpen={setOpen}
      form={
        <form
          onSubmit={onSubmit}
          noValidate
          className="space-y-4"
          aria-label="Create an automatic certificate"
        >
          <TextField label="Name" name="name" autoComplete="off" error={errors.name} className="max-w-sm" />
          <SelectField
            label="Listener"
            name="listenerId"
            error={errors.listenerId}
            hint="Its route hosts are the names; the certificate is put on it once issued."
            className="max-w-sm"
          >
            <option value="">None</option>
            {httpListeners.map((l: { id: string; name: string; port: number }) => (
              <option key={l.id} value={l.id}>
                {l.name} (:{l.port})
              </option>
            ))}
          </SelectField>
          <TextField
            label="Names"
            name="names"
            autoComplete="off"
            placeholder="shop.example.com www.shop.example.com"
            error={errors.names}
            hint="Optional with a listener. HTTP-01 needs port 80 of the agents reachable for each name."
          />
          <FormError error={create.error} fields={errors} shown={SHOWN} />
          <FormActions>
            <Button type="button" variant="ghost" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" variant="primary" disabled={create.isPending}>
              Create
            </Button>
          </FormActions>
        </form>
      }
    >
      {rows.data && rows.data.length > 0 ? (
        <CertificateTable columns={COLUMNS}>
          {rows.data.map((r) => (
            <tr key={r.id} data-testid={`acme-${r.name}`}>
              <Td className="text-[13px] font-medium">{r.name}</Td>
              <Td className="text-[13px]">{r.names.join(", ")}</Td>
              <Td>
                <Badge tone={STATUS_TONE[r.status]}>{r.status}</Badge>
              </Td>
              <Td className="max-w-md text-xs text-red-700 dark:text-red-300">{r.lastError ?? ""}</Td>
              <Td className="whitespace-nowrap text-[13px]">{formatDate(r.nextAttemptAt)}</Td>
              <Td className="text-right">
                {mayWrite ? (
                  <div className="flex justify-end gap-2">
                    <Button
                      size="xs"
                      disabled={renew.isPending}
                      onClick={async () => {
                        await renew.mutateAsync({ id: r.id });
                        await refresh();
                      }}
                    >
                      Renew now<span className="sr-only"> {r.name}</span>
                    </Button>
                    <DeleteButton
                      name={r.name}
                      kind="automatic certificate"
                      body="Renewals stop. The certificate already issued stays; delete it on its own if no listener needs it."
                      onDelete={async () => {
                        await remove.mutateAsync({ id: r.id });
                        await refresh();
                      }}
                    />
                  </div>
                ) : null}
              </Td>
            </tr>
          ))}
        </CertificateTable>
      ) : null}
    </CertificateSection>
  );
}
