"use client";

import { TextField } from "../form";

/**
 * The PKCS#12 alternative to the PEM fields: the .p12/.pfx file and its
 * password. The form reads the file and sends it as base64 (fileToBase64).
 */
export function Pkcs12Fields({ errors }: { errors: Record<string, string> }) {
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <TextField
        label="PKCS#12 file (.p12, .pfx)"
        name="pkcs12"
        type="file"
        accept=".p12,.pfx,application/x-pkcs12"
        error={errors.pkcs12}
        hint="The certificate, its chain and its key in one file (openssl pkcs12 -export, Windows, Java keytool)."
        inputClassName="py-1.5"
      />
      <TextField
        label="File password"
        name="password"
        type="password"
        autoComplete="off"
        error={errors.password}
        hint="Leave empty for a file exported without one. Used once to open the file, never stored."
      />
    </div>
  );
}

/** A file's bytes as base64, in chunks (String.fromCharCode takes a bounded argument list). */
export async function fileToBase64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
