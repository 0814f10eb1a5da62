import { MAX_CA_BUNDLE_PEM_BYTES, MAX_CHAIN_PEM_BYTES, MAX_KEY_PEM_BYTES } from "@fulcrum/protocol";
import { z } from "zod";
import { idSchema, nameSchema } from "../schemas";

/** PEM text as pasted or read from a file; inspect.ts parses and checks it. */
const pemText = (max: number, what: string) =>
  z
    .string({ message: `Paste the ${what} (PEM).` })
    .min(1, `Paste the ${what} (PEM).`)
    .max(max, `The ${what} may be at most ${max / 1024} KiB.`);

export const certificateUploadInput = z.object({
  clusterId: idSchema,
  name: nameSchema,
  /** The leaf and its intermediates, in any order. */
  chainPem: pemText(MAX_CHAIN_PEM_BYTES, "certificate chain"),
  keyPem: pemText(MAX_KEY_PEM_BYTES, "private key"),
});

/** Largest PKCS#12 file accepted (a key and a chain of four RSA 4096 certificates take about 12 KiB). */
export const MAX_PKCS12_BYTES = 64 * 1024;
const MAX_PKCS12_BASE64 = Math.ceil(MAX_PKCS12_BYTES / 3) * 4;

/**
 * A .p12/.pfx file and its password instead of PEM text: the browser sends
 * the file as base64 (tRPC input is JSON), size-limited before decoding.
 */
export const certificatePkcs12Input = z.object({
  clusterId: idSchema,
  name: nameSchema,
  pkcs12: z
    .string({ message: "Choose a .p12 or .pfx file." })
    .min(1, "Choose a .p12 or .pfx file.")
    .max(MAX_PKCS12_BASE64, `The file may be at most ${MAX_PKCS12_BYTES / 1024} KiB.`)
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, "The file must be sent as base64."),
  /** Empty for a file exported without a password. */
  password: z.string().max(1024, "The password may be at most 1024 characters."),
});

/** A new certificate and key for an existing entry (renewal): listeners keep using it by id. */
export const certificateReplaceInput = z.object({
  id: idSchema,
  chainPem: certificateUploadInput.shape.chainPem,
  keyPem: certificateUploadInput.shape.keyPem,
});

export const certificateRenameInput = z.object({ id: idSchema, name: nameSchema });
export const certificateIdInput = z.object({ id: idSchema });
export const certificateListInput = z.object({ clusterId: idSchema });

/** A CA bundle as pasted or read from a file (ca-bundles.ts reads it strictly). */
export const caBundleUploadInput = z.object({
  clusterId: idSchema,
  name: nameSchema,
  pem: pemText(MAX_CA_BUNDLE_PEM_BYTES, "CA certificates"),
});
