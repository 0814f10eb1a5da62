import { z } from "zod";
import { isHostname, isId, MAX_ID_LENGTH } from "./grammar";

/*
 * TLS in the snapshot (issue 16). Config versions are stored, diffed and shown
 * in history, so the snapshot names certificates by reference (id, fingerprint,
 * names, expiry) and never holds key material. The keys travel next to the
 * snapshot in the snapshot message (`tlsMaterial`, messages.ts), only to
 * agents, and are not part of the hashed body.
 */

/** Certificates one snapshot may reference; one listener may use at most MAX_LISTENER_CERTIFICATES. */
export const MAX_SNAPSHOT_CERTIFICATES = 1000;
export const MAX_LISTENER_CERTIFICATES = 100;
/** SANs kept per certificate (public CAs issue at most 100; private CAs a few more). */
export const MAX_CERTIFICATE_NAMES = 1000;
/** PEM sizes: a chain of a few certificates is 4-12 KiB, an RSA 4096 key about 3.3 KiB. */
export const MAX_CHAIN_PEM_BYTES = 64 * 1024;
export const MAX_KEY_PEM_BYTES = 16 * 1024;
/** The longest HSTS max-age offered: two years (the preload list asks for at least one). */
export const MAX_HSTS_MAX_AGE_SECONDS = 63_072_000;

/**
 * A name a certificate serves, as SNI compares it: a lower-case host name, or
 * `*.` and a host name (a wildcard covers exactly one label). IP SANs are left
 * out of snapshots: SNI never carries an IP address.
 */
export function isCertificateName(s: string): boolean {
  if (s !== s.toLowerCase()) return false;
  return s.startsWith("*.") ? isHostname(s.slice(2)) : isHostname(s);
}

/** sha256 of a certificate's DER, lower-case hex without separators. */
export function isSha256Hex(s: string): boolean {
  return /^[0-9a-f]{64}$/.test(s);
}

const BASE64_LINE = /^[A-Za-z0-9+/]{1,76}={0,2}$/;

/**
 * PEM as the console writes it: one or more blocks with one of `labels`, lines
 * ended by LF, only base64 between the armour lines (no headers such as
 * `Proc-Type`, no text between blocks, at most one final LF). Linear, one pass
 * over the lines; `max` bounds the input before anything is split.
 */
export function isPemBlocks(
  s: string,
  labels: readonly string[],
  opts: { max: number; maxBlocks?: number },
): boolean {
  if (s.length === 0 || s.length > opts.max) return false;
  const lines = (s.endsWith("\n") ? s.slice(0, -1) : s).split("\n");
  let label: string | null = null;
  let bodyLines = 0;
  let blocks = 0;
  for (const line of lines) {
    if (label === null) {
      const m = /^-----BEGIN ([A-Z0-9 ]{1,40})-----$/.exec(line);
      if (!m || !labels.includes(m[1]!)) return false;
      label = m[1]!;
      bodyLines = 0;
    } else if (line === `-----END ${label}-----`) {
      if (bodyLines === 0) return false;
      label = null;
      blocks += 1;
      if (opts.maxBlocks !== undefined && blocks > opts.maxBlocks) return false;
    } else {
      if (!BASE64_LINE.test(line)) return false;
      bodyLines += 1;
    }
  }
  return label === null && blocks > 0;
}

/** A certificate chain, leaf first: `CERTIFICATE` blocks only. */
export function isChainPem(s: string): boolean {
  return isPemBlocks(s, ["CERTIFICATE"], { max: MAX_CHAIN_PEM_BYTES });
}

/** A private key as one unencrypted PKCS#8 `PRIVATE KEY` block (the console converts RSA/EC forms). */
export function isKeyPem(s: string): boolean {
  return isPemBlocks(s, ["PRIVATE KEY"], { max: MAX_KEY_PEM_BYTES, maxBlocks: 1 });
}

const idSchema = z
  .string()
  .max(MAX_ID_LENGTH)
  .refine(isId, `Use 1-${MAX_ID_LENGTH} letters, digits and . _ ~ -`);
const fingerprintSchema = z
  .string()
  .max(64)
  .refine(isSha256Hex, "A fingerprint is sha256 in lower-case hex.");

/** A certificate as the snapshot references it: no key material. */
export const snapshotCertificateSchema = z.object({
  id: idSchema,
  /** sha256 of the leaf's DER: a rotation changes it, so it makes a new config version. */
  fingerprint: fingerprintSchema,
  /** DNS SANs, lower-case, `*.example.com` wildcards allowed; IP SANs excluded. */
  names: z
    .array(
      z
        .string()
        .max(253)
        .refine(isCertificateName, "A certificate name is a lower-case host name or *.host.name."),
    )
    .max(MAX_CERTIFICATE_NAMES),
  /** ISO 8601 time after which the leaf is no longer valid. */
  notAfter: z
    .string()
    .max(64)
    .refine((v) => Number.isFinite(Date.parse(v)), "Use an ISO 8601 time."),
});
export type SnapshotCertificate = z.infer<typeof snapshotCertificateSchema>;

export const TLS_MIN_VERSIONS = ["TLSv1.2", "TLSv1.3"] as const;
export type TlsMinVersion = (typeof TLS_MIN_VERSIONS)[number];

export const hstsSchema = z.object({
  maxAgeSeconds: z.number().int().min(0).max(MAX_HSTS_MAX_AGE_SECONDS),
  includeSubDomains: z.boolean().default(false),
  preload: z.boolean().default(false),
});
export type Hsts = z.infer<typeof hstsSchema>;

/** The Strict-Transport-Security value both engines send (RFC 6797 §6.1). */
export function hstsHeaderValue(h: Hsts): string {
  let v = `max-age=${h.maxAgeSeconds}`;
  if (h.includeSubDomains) v += "; includeSubDomains";
  if (h.preload) v += "; preload";
  return v;
}

/**
 * TLS on an http listener. SNI picks the certificate: an exact name, then a
 * wildcard (one label), then `defaultCertificateId`, or a failed handshake when
 * `unknownName` is "reject". Certificate ids must be in snapshot.certificates
 * (checked by snapshotSchema, which sees both).
 */
export const listenerTlsSchema = z
  .object({
    certificateIds: z.array(idSchema).min(1).max(MAX_LISTENER_CERTIFICATES),
    defaultCertificateId: idSchema,
    unknownName: z.enum(["default", "reject"]).default("default"),
    minVersion: z.enum(TLS_MIN_VERSIONS).default("TLSv1.2"),
    hsts: hstsSchema.nullable().default(null),
    /** Fixed for now; the HTTP/2 issue adds "h2". */
    alpn: z.tuple([z.literal("http/1.1")]).default(["http/1.1"]),
  })
  .superRefine((tls, ctx) => {
    if (!tls.certificateIds.includes(tls.defaultCertificateId)) {
      ctx.addIssue({
        code: "custom",
        path: ["defaultCertificateId"],
        message: `the default certificate ${tls.defaultCertificateId} is not one of the listener's certificates`,
      });
    }
    const seen = new Set<string>();
    for (const [i, id] of tls.certificateIds.entries()) {
      if (seen.has(id)) {
        ctx.addIssue({
          code: "custom",
          path: ["certificateIds", i],
          message: `certificate ${id} is listed twice`,
        });
      }
      seen.add(id);
    }
  });
export type ListenerTls = z.infer<typeof listenerTlsSchema>;

/** A plain http listener answering every request with a redirect to https on `port` (host, path and query kept). */
export const redirectToHttpsSchema = z.object({
  status: z.union([z.literal(301), z.literal(308)], { message: "Choose 301 or 308." }).default(308),
  port: z
    .number({ message: "Enter the HTTPS port." })
    .int("A port runs from 1 to 65535.")
    .min(1, "A port runs from 1 to 65535.")
    .max(65535, "A port runs from 1 to 65535.")
    .default(443),
});
export type RedirectToHttps = z.infer<typeof redirectToHttpsSchema>;

/** Key material for one certificate, sent to agents next to the snapshot (never stored in a config version). */
export const tlsMaterialSchema = z.object({
  id: idSchema,
  fingerprint: fingerprintSchema,
  /** Leaf first, then its issuers. */
  chainPem: z
    .string()
    .max(MAX_CHAIN_PEM_BYTES)
    .refine(isChainPem, "A chain is CERTIFICATE PEM blocks, leaf first, at most 64 KiB."),
  keyPem: z
    .string()
    .max(MAX_KEY_PEM_BYTES)
    .refine(isKeyPem, "A key is one unencrypted PKCS#8 PRIVATE KEY PEM block, at most 16 KiB."),
});
export type TlsMaterial = z.infer<typeof tlsMaterialSchema>;

/**
 * What a snapshot's TLS listeners need that `material` does not give: one line
 * per certificate without material, or with material for another fingerprint.
 * The agent NACKs a snapshot for which this is not empty.
 */
export function missingTlsMaterial(
  snapshot: {
    certificates?: readonly SnapshotCertificate[];
    listeners: ReadonlyArray<{ name: string; tls?: ListenerTls | null }>;
    /** Pools presenting a client certificate to their backends (backend-tls.ts). */
    pools?: ReadonlyArray<{ name: string; tls?: { clientCertificateId: string | null } | null }>;
  },
  material: readonly Pick<TlsMaterial, "id" | "fingerprint">[],
): string[] {
  const byId = new Map(material.map((m) => [m.id, m.fingerprint]));
  const certs = new Map((snapshot.certificates ?? []).map((c) => [c.id, c.fingerprint]));
  const problems: string[] = [];
  const reported = new Set<string>();
  const users = [
    ...snapshot.listeners.map((l) => ({ who: `listener ${l.name}`, ids: l.tls?.certificateIds ?? [] })),
    ...(snapshot.pools ?? []).map((p) => ({
      who: `pool ${p.name}`,
      ids: p.tls?.clientCertificateId ? [p.tls.clientCertificateId] : [],
    })),
  ];
  for (const { who, ids } of users) {
    for (const id of ids) {
      if (reported.has(id)) continue;
      const want = certs.get(id);
      const have = byId.get(id);
      if (want === undefined) problems.push(`${who}: certificate ${id} is not in the snapshot`);
      else if (have === undefined) problems.push(`${who}: no key material for certificate ${id}`);
      else if (have !== want) {
        problems.push(`${who}: key material for certificate ${id} has fingerprint ${have}, not ${want}`);
      } else continue;
      reported.add(id);
    }
  }
  return problems;
}
