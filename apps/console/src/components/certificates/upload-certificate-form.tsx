"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "../../lib/trpc";
import { mergeErrors, validate } from "../../lib/validate";
import { certificateUploadInput } from "../../server/domain/certificates/schemas";
import { FormActions, FormError, TextField } from "../form";
import { Button } from "../ui";
import { PemField } from "./pem-field";

const SHOWN = ["name", "chainPem", "keyPem"] as const;

/**
 * Upload a PEM chain and key. The server checks them (key matches, chain
 * order, validity, key type) and answers each refusal for its field, shown
 * under that field.
 */
export function UploadCertificateForm({ clusterId, onDone }: { clusterId: string; onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const upload = useMutation(trpc.certificate.upload.mutationOptions());
  const [clientErrors, setClientErrors] = useState<Record<string, string> | null>(null);
  const errors = mergeErrors(clientErrors, upload.error);

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const input = {
      clusterId,
      name: String(f.get("name") ?? ""),
      chainPem: String(f.get("chainPem") ?? ""),
      keyPem: String(f.get("keyPem") ?? ""),
    };
    const invalid = validate(certificateUploadInput, input);
    setClientErrors(invalid);
    if (invalid) return;
    try {
      await upload.mutateAsync(input);
    } catch {
      return; // shown under the fields
    }
    await queryClient.invalidateQueries({ queryKey: trpc.certificate.list.queryKey({ clusterId }) });
    onDone();
  }

  return (
    <form onSubmit={onSubmit} noValidate className="space-y-4" aria-label="Upload a certificate">
      <TextField
        label="Name"
        name="name"
        autoFocus
        autoComplete="off"
        placeholder="www-example-com"
        error={errors.name}
        hint="How listeners and the history name it."
        className="max-w-sm"
      />
      <div className="grid gap-4 lg:grid-cols-2">
        <PemField
          label="Certificate chain (PEM)"
          name="chainPem"
          error={errors.chainPem}
          placeholder={"-----BEGIN CERTIFICATE-----\n…"}
          hint="The certificate and its intermediates (fullchain.pem), in any order."
        />
        <PemField
          label="Private key (PEM)"
          name="keyPem"
          error={errors.keyPem}
          placeholder={"-----BEGIN PRIVATE KEY-----\n…"}
          hint="Unencrypted; stored encrypted and never shown again. RSA ≥ 2048, EC P-256/P-384 or Ed25519."
        />
      </div>
      <FormError error={upload.error} fields={errors} shown={SHOWN} />
      <FormActions>
        <Button onClick={onDone}>Cancel</Button>
        <Button type="submit" variant="primary" disabled={upload.isPending}>
          {upload.isPending ? "Checking…" : "Upload certificate"}
        </Button>
      </FormActions>
    </form>
  );
}
