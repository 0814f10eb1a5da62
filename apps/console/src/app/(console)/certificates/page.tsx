"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { AcmeCertificates } from "../../../components/certificates/acme-certificates";
import { ExpiryWithDate } from "../../../components/certificates/expiry";
import { Fingerprint } from "../../../components/certificates/fingerprint";
import { CertificateTable } from "../../../components/certificates/section";
import { TicketKeysState } from "../../../components/certificates/ticket-keys-state";
import { TrustedCas } from "../../../components/certificates/trusted-cas";
import { UploadCertificateForm } from "../../../components/certificates/upload-certificate-form";
import { CertificateIcon, PlusIcon } from "../../../components/icons";
import {
  Badge,
  Button,
  Card,
  DeleteButton,
  EmptyState,
  ErrorNotice,
  PageHeader,
  SkeletonRows,
  Td,
} from "../../../components/ui";
import type { CertificateRow } from "../../../lib/api-types";
import { useCan, useCluster } from "../../../lib/console-context";
import { useNow } from "../../../lib/format";
import { useTRPC } from "../../../lib/trpc";

const COLUMNS = ["Name", "Names (SANs)", "Issuer", "Key", "Fingerprint", "Expires", "Used by"] as const;

function UsedBy({ c }: { c: CertificateRow }) {
  if (c.usedBy.length === 0) return <span className="text-xs text-zinc-400">unused</span>;
  return (
    <ul className="space-y-0.5 text-[13px]">
      {c.usedBy.map((u) => (
        <li key={u.listenerId}>
          {u.listenerName} <span className="text-zinc-500">:{u.port}</span>
          {u.isDefault ? (
            <Badge tone="indigo" className="ml-1">
              default
            </Badge>
          ) : null}
          {u.hosts.filter(Boolean).length > 0 ? (
            <div className="text-xs text-zinc-500 dark:text-zinc-400">
              {u.hosts.filter(Boolean).join(", ")}
            </div>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

export default function CertificatesPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { clusterId, cluster } = useCluster();
  const allowed = useCan();
  const now = useNow(60_000);
  const certificates = useQuery(trpc.certificate.list.queryOptions({ clusterId }));
  const remove = useMutation(trpc.certificate.delete.mutationOptions());
  const [uploading, setUploading] = useState(false);
  const mayWrite = allowed("certificate.write");

  return (
    <>
      <PageHeader
        title="Certificates"
        description={
          <>
            TLS certificates the HTTPS listeners of{" "}
            <span className="font-medium text-zinc-700 dark:text-zinc-200">{cluster.name}</span> serve.
            Private keys are stored encrypted and only ever sent to this cluster's agents.
          </>
        }
        actions={
          mayWrite ? (
            <Button variant="primary" onClick={() => setUploading(true)} aria-expanded={uploading}>
              <PlusIcon />
              Upload certificate
            </Button>
          ) : null
        }
      />
      {uploading ? (
        <Card className="mb-6 p-5">
          <h2 className="mb-4 text-sm font-semibold">Upload a certificate</h2>
          <UploadCertificateForm clusterId={clusterId} onDone={() => setUploading(false)} />
        </Card>
      ) : null}
      {certificates.error ? <ErrorNotice error={certificates.error} className="mb-4" /> : null}
      {certificates.isPending ? (
        <SkeletonRows rows={3} />
      ) : certificates.data && certificates.data.length === 0 ? (
        uploading ? null : (
          <EmptyState icon={<CertificateIcon />} title="No certificates yet">
            Upload a PEM certificate chain and its key, then choose it in an HTTP listener's TLS section.
          </EmptyState>
        )
      ) : (
        <CertificateTable columns={COLUMNS}>
          {certificates.data?.map((c) => (
            <tr key={c.id} data-testid={`certificate-${c.name}`}>
              <Td>
                <div className="text-[13px] font-medium">{c.name}</div>
                <div className="text-xs text-zinc-500 dark:text-zinc-400">{c.subject}</div>
              </Td>
              <Td className="text-[13px]">
                {[...c.names, ...c.ipAddresses].join(", ") || <span className="text-zinc-400">none</span>}
              </Td>
              <Td className="text-[13px]">{c.issuer}</Td>
              <Td className="whitespace-nowrap text-[13px]">{c.keyType}</Td>
              <Td>
                <Fingerprint value={c.fingerprint} />
              </Td>
              <Td className="whitespace-nowrap text-[13px]">
                <ExpiryWithDate notAfter={c.notAfter} now={now} />
              </Td>
              <Td>
                <UsedBy c={c} />
              </Td>
              <Td className="text-right">
                {mayWrite ? (
                  <DeleteButton
                    name={c.name}
                    body={
                      c.usedBy.length > 0
                        ? "Listeners use it: take it off them first, or the console refuses."
                        : "Its key is deleted too. This cannot be undone."
                    }
                    onDelete={async () => {
                      await remove.mutateAsync({ id: c.id });
                      await queryClient.invalidateQueries({
                        queryKey: trpc.certificate.list.queryKey({ clusterId }),
                      });
                    }}
                  />
                ) : null}
              </Td>
            </tr>
          ))}
        </CertificateTable>
      )}
      <AcmeCertificates clusterId={clusterId} mayWrite={mayWrite} />
      <TicketKeysState clusterId={clusterId} now={now} />
      <TrustedCas clusterId={clusterId} mayWrite={mayWrite} />
    </>
  );
}
