import { z } from "zod";
import { isHostname, isId, MAX_ID_LENGTH } from "./grammar";
import { isPemBlocks, isSha256Hex, TLS_MIN_VERSIONS } from "./tls";

/*
 * TLS from the agents to a pool's backends (issue 16, "TLS to backends").
 * A pool says how to verify the backend (system roots, an uploaded CA bundle,
 * or not at all), which SNI to send, an optional client certificate (a console
 * Certificate, whose key travels as tlsMaterial) and a minimum version.
 * CA bundles are public but big (a few hundred KiB), and config versions are
 * stored and diffed: the snapshot names a bundle by id and fingerprint, and
 * its PEM travels next to the snapshot in the snapshot message (`caBundles`,
 * messages.ts), like key material.
 */

/** Bundles one snapshot may reference. */
export const MAX_SNAPSHOT_CA_BUNDLES = 100;
/** A CA bundle's PEM: Debian's whole system bundle is about 220 KiB. */
export const MAX_CA_BUNDLE_PEM_BYTES = 512 * 1024;
export const MAX_CA_BUNDLE_CERTIFICATES = 1000;

/** CERTIFICATE PEM blocks only, at most MAX_CA_BUNDLE_PEM_BYTES. */
export function isCaBundlePem(s: string): boolean {
  return isPemBlocks(s, ["CERTIFICATE"], {
    max: MAX_CA_BUNDLE_PEM_BYTES,
    maxBlocks: MAX_CA_BUNDLE_CERTIFICATES,
  });
}

const idSchema = z
  .string()
  .max(MAX_ID_LENGTH)
  .refine(isId, `Use 1-${MAX_ID_LENGTH} letters, digits and . _ ~ -`);
const fingerprintSchema = z
  .string()
  .max(64)
  .refine(isSha256Hex, "A fingerprint is sha256 in lower-case hex.");

/** How the agent checks the backend's certificate: system roots, an uploaded bundle, or not at all (insecure). */
export const BACKEND_TLS_VERIFY_MODES = ["system", "ca", "none"] as const;
export type BackendTlsVerify = (typeof BACKEND_TLS_VERIFY_MODES)[number];
/**
 * Which SNI the agent sends: the backend's address when it is a host name
 * (an IP address sends none: SNI never carries one), a fixed name, or none.
 */
export const BACKEND_TLS_SNI_MODES = ["backend", "fixed", "none"] as const;
export type BackendTlsSni = (typeof BACKEND_TLS_SNI_MODES)[number];

/** A host name as SNI carries it: lower case, no trailing dot, no IP address. */
export function isSniName(s: string): boolean {
  return s === s.toLowerCase() && !s.endsWith(".") && isHostname(s);
}

export const backendTlsSchema = z
  .object({
    verify: z.enum(BACKEND_TLS_VERIFY_MODES).default("system"),
    /** verify "ca": the bundle in snapshot.caBundles the backend's chain must lead to. */
    caBundleId: idSchema.nullable().default(null),
    sni: z.enum(BACKEND_TLS_SNI_MODES).default("backend"),
    /** sni "fixed": the name sent (and, when verifying, the name the certificate must carry). */
    sniName: z
      .string()
      .max(253)
      .refine(isSniName, "An SNI name is a lower-case host name (no IP address, no trailing dot).")
      .nullable()
      .default(null),
    /** mTLS: a certificate in snapshot.certificates whose key the agent presents (tlsMaterial). */
    clientCertificateId: idSchema.nullable().default(null),
    minVersion: z.enum(TLS_MIN_VERSIONS).default("TLSv1.2"),
  })
  .superRefine((t, ctx) => {
    if (t.verify === "ca" && t.caBundleId === null) {
      ctx.addIssue({
        code: "custom",
        path: ["caBundleId"],
        message: "verify against a CA needs a CA bundle",
      });
    }
    if (t.verify !== "ca" && t.caBundleId !== null) {
      ctx.addIssue({
        code: "custom",
        path: ["caBundleId"],
        message: "a CA bundle is only used when verify is ca",
      });
    }
    if (t.sni === "fixed" && t.sniName === null) {
      ctx.addIssue({ code: "custom", path: ["sniName"], message: "a fixed SNI needs a name" });
    }
    if (t.sni !== "fixed" && t.sniName !== null) {
      ctx.addIssue({
        code: "custom",
        path: ["sniName"],
        message: "an SNI name is only used when sni is fixed",
      });
    }
  });
export type BackendTls = z.infer<typeof backendTlsSchema>;

/** A CA bundle as the snapshot references it. */
export const snapshotCaBundleSchema = z.object({
  id: idSchema,
  /** sha256 of the bundle's PEM text (UTF-8): the agent checks the PEM it got against it. */
  fingerprint: fingerprintSchema,
});
export type SnapshotCaBundle = z.infer<typeof snapshotCaBundleSchema>;

/** A CA bundle's PEM, sent to agents next to the snapshot. */
export const caBundleMaterialSchema = z.object({
  id: idSchema,
  fingerprint: fingerprintSchema,
  pem: z
    .string()
    .max(MAX_CA_BUNDLE_PEM_BYTES)
    .refine(isCaBundlePem, "A CA bundle is CERTIFICATE PEM blocks, at most 512 KiB."),
});
export type CaBundleMaterial = z.infer<typeof caBundleMaterialSchema>;

/**
 * What the snapshot's pools need that `bundles` does not give (a bundle
 * missing or with another fingerprint), one line each. The agent NACKs a
 * snapshot for which this is not empty. The fingerprint is checked by the
 * caller (it hashes; this package imports no Node.js built-in).
 */
export function missingCaBundles(
  snapshot: {
    caBundles?: readonly SnapshotCaBundle[];
    pools: ReadonlyArray<{ name: string; tls?: BackendTls | null }>;
  },
  bundles: readonly Pick<CaBundleMaterial, "id" | "fingerprint">[],
): string[] {
  const have = new Map(bundles.map((b) => [b.id, b.fingerprint]));
  const want = new Map((snapshot.caBundles ?? []).map((b) => [b.id, b.fingerprint]));
  const problems: string[] = [];
  for (const p of snapshot.pools) {
    const id = p.tls?.caBundleId;
    if (!id) continue;
    const w = want.get(id);
    const h = have.get(id);
    if (w === undefined) problems.push(`pool ${p.name}: CA bundle ${id} is not in the snapshot`);
    else if (h === undefined) problems.push(`pool ${p.name}: no PEM for CA bundle ${id}`);
    else if (h !== w) problems.push(`pool ${p.name}: CA bundle ${id} has fingerprint ${h}, not ${w}`);
  }
  return problems;
}

/** The SNI to send to one backend, or undefined for none. */
export function backendSni(tls: BackendTls, backendAddress: string): string | undefined {
  if (tls.sni === "fixed") return tls.sniName ?? undefined;
  if (tls.sni === "none") return undefined;
  const name = backendAddress.toLowerCase().replace(/\.$/, "");
  return isSniName(name) ? name : undefined;
}
