"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "../../lib/trpc";
import { mergeErrors, validate } from "../../lib/validate";
import {
  certificatePkcs12Input,
  certificateUploadInput,
  MAX_PKCS12_BYTES,
} from "../../server/domain/certificates/schemas";
import { FormActions, FormError, TextField } from "../form";
import { Button } from "../ui";
import { PemField } from "./pem-field";
import { fileToBase64, Pkcs12Fields } from "./pkcs12-fields";

type Format = "pem" | "pkcs12";
const SHOWN: Record<Format, readonly string[]> = {
  pem: ["name", "chainPem", "keyPem"],
  pkcs12: ["name", "pkcs12", "password"],
};

/**
 * Upload a PEM chain and key, or a PKCS#12 file and its password. The server
 * checks them the same way (key matches, chain order, validity, key type) and
 * answers each refusal for its field, shown under that field.
 */
export function UploadCertificateForm({ clusterId, onDone }: { clusterId: string; onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const uploadPem = useMutation(trpc.certificate.upload.mutationOptions());
  const uploadPkcs12 = useMutation(trpc.certificate.uploadPkcs12.mutationOptions());
  const [format, setFormat] = useState<Format>("pem");
  const upload = format === "pem" ? uploadPem : uploadPkcs12;
  const [clientErrors, setClientErrors] = useState<Record<string, string> | null>(null);
  const errors = mergeErrors(clientErrors, upload.error);

  async function submitPkcs12(f: FormData, name: string): Promise<boolean> {
    const file = f.get("pkcs12");
    if (file instanceof File && file.size > MAX_PKCS12_BYTES) {
      const message = `${file.name} is ${Math.ceil(file.size / 1024)} KiB; a PKCS#12 file may be at most ${MAX_PKCS12_BYTES / 1024} KiB.`;
      setClientErrors({ pkcs12: message });
      return false;
    }
    const input = {
      clusterId,
      name,
      pkcs12: file instanceof File && file.size > 0 ? await fileToBase64(file) : "",
      password: String(f.get("password") ?? ""),
    };
    const invalid = validate(certificatePkcs12Input, input);
    setClientErrors(invalid);
    if (invalid) return false;
    await uploadPkcs12.mutateAsync(input);
    return true;
  }

  async function submitPem(f: FormData, name: string): Promise<boolean> {
    const input = {
      clusterId,
      name,
      chainPem: String(f.get("chainPem") ?? ""),
      keyPem: String(f.get("keyPem") ?? ""),
    };
    const invalid = validate(certificateUploadInput, input);
    setClientErrors(invalid);
    if (invalid) return false;
    await uploadPem.mutateAsync(input);
    return true;
  }

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const name = String(f.get("name") ?? "");
    try {
      if (!(await (format === "pem" ? submitPem(f, name) : submitPkcs12(f, name)))) return;
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
      <fieldset className="flex flex-wrap items-center gap-4 text-[13px]">
        <legend className="sr-only">Format</legend>
        {(
          [
            ["pem", "PEM chain and key"],
            ["pkcs12", "PKCS#12 file (.p12/.pfx)"],
          ] as const
        ).map(([value, label]) => (
          <label key={value} className="inline-flex items-center gap-1.5">
            <input
              type="radio"
              name="format"
              value={value}
              checked={format === value}
              onChange={() => {
                setFormat(value);
                setClientErrors(null);
              }}
            />
            {label}
          </label>
        ))}
      </fieldset>
      {format === "pkcs12" ? (
        <Pkcs12Fields errors={errors} />
      ) : (
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
      )}
      <FormError error={upload.error} fields={errors} shown={SHOWN[format]} />
      <FormActions>
        <Button onClick={onDone}>Cancel</Button>
        <Button type="submit" variant="primary" disabled={upload.isPending}>
          {upload.isPending ? "Checking…" : "Upload certificate"}
        </Button>
      </FormActions>
    </form>
  );
}
