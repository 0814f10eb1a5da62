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
