import { join } from "node:path";
import type { ListenerTls, Snapshot, SnapshotProxyListener, TlsMaterial } from "@fulcrum/protocol";
import { checkMaterial } from "../../dataplane/frontends/tls/material";
import { SnapshotInvalidError } from "../../errors";
import { proxyListeners } from "./validate";

/**
 * The files HAProxy reads for TLS listeners, in the engine's certs dir: one
 * PEM per certificate (chain, leaf first, then the key), named by the
 * certificate id so a rotation (same id, new fingerprint) keeps the config
 * text and can go through `set ssl cert` instead of a reload; one crt-list per
 * TLS listener.
 */
export const certPath = (certDir: string, certificateId: string) => join(certDir, `${certificateId}.pem`);
export const crtListPath = (certDir: string, listenerId: string) =>
  join(certDir, `${listenerId.replace(/[^A-Za-z0-9_.~-]/g, "_")}.crtlist`);

type TlsListener = SnapshotProxyListener & { tls: ListenerTls };

export const tlsListeners = (snapshot: Snapshot): TlsListener[] =>
  proxyListeners(snapshot).filter((l): l is TlsListener => l.protocol === "http" && !!l.tls);

/** Ids of the certificates some listener serves (only these are written to disk). */
export function certificatesInUse(snapshot: Snapshot): Set<string> {
  return new Set(tlsListeners(snapshot).flatMap((l) => l.tls.certificateIds));
}

/** Ids of the certificates pools present to their backends (mTLS; backend-tls.ts renders `crt`). */
export function clientCertificatesInUse(snapshot: Snapshot): Set<string> {
  return new Set(
    snapshot.pools.flatMap((p) => (p.tls?.clientCertificateId ? [p.tls.clientCertificateId] : [])),
  );
}

/**
 * A listener's crt-list. HAProxy serves the first line's certificate to a
 * client whose name matches no filter (or sends none), so the default
 * certificate comes first. Each name is a filter on the first certificate
 * (in the listener's order) that names it, as the builtin engine's SNI table
 * does; HAProxy itself looks up exact names before wildcards. A certificate
 * left with no name of its own is never chosen by SNI: the default one gets
 * `!*` (no name, but still the fallback), any other is left out, because a
 * line without filters would serve every name in the certificate's SANs.
 */
export function renderCrtList(l: TlsListener, snapshot: Snapshot, certDir: string): string {
  const byId = new Map(snapshot.certificates.map((c) => [c.id, c]));
  const taken = new Set<string>();
  const names = new Map<string, string[]>();
  for (const id of l.tls.certificateIds) {
    const own = (byId.get(id)?.names ?? []).filter((n) => !taken.has(n));
    for (const n of own) taken.add(n);
    names.set(id, own);
  }
  const order = [
    l.tls.defaultCertificateId,
    ...l.tls.certificateIds.filter((id) => id !== l.tls.defaultCertificateId),
  ];
  const lines: string[] = [];
  for (const id of order) {
    const own = names.get(id) ?? [];
    const isDefault = id === l.tls.defaultCertificateId;
    if (own.length === 0 && !isDefault) continue;
    lines.push([certPath(certDir, id), ...(own.length > 0 ? own : ["!*"])].join(" "));
  }
  return `${lines.join("\n")}\n`;
}

/** Every listener's crt-list: path → text. */
export function renderCrtLists(snapshot: Snapshot, certDir: string): Map<string, string> {
  return new Map(
    tlsListeners(snapshot).map((l) => [crtListPath(certDir, l.id), renderCrtList(l, snapshot, certDir)]),
  );
}

/** A certificate's file for HAProxy: the chain (leaf first) and the key in one PEM. */
export const certificatePem = (m: TlsMaterial) => `${m.chainPem.trimEnd()}\n${m.keyPem.trimEnd()}\n`;

/**
 * The PEM files for the certificates in use (listeners' and pools' client
 * certificates), path → text, after the same
 * checks as the builtin engine (leaf fingerprint = the snapshot's, key
 * belongs to the leaf). Missing or mismatched material is a
 * SnapshotInvalidError naming the certificate: the snapshot is NACKed and
 * nothing is written.
 */
export function certificateFiles(
  snapshot: Snapshot,
  material: readonly TlsMaterial[],
  certDir: string,
): Map<string, string> {
  const byId = new Map(material.map((m) => [m.id, m]));
  const refs = new Map(snapshot.certificates.map((c) => [c.id, c]));
  const out = new Map<string, string>();
  for (const id of new Set([...certificatesInUse(snapshot), ...clientCertificatesInUse(snapshot)])) {
    const ref = refs.get(id);
    if (ref === undefined) throw new SnapshotInvalidError(`certificate ${id} is not in the snapshot`);
    const m = byId.get(id);
    if (m === undefined) throw new SnapshotInvalidError(`no key material for certificate ${id}`);
    checkMaterial(m, ref.fingerprint);
    out.set(certPath(certDir, id), certificatePem(m));
  }
  return out;
}

/** Certificates served before and after whose fingerprint changed: `set ssl cert` candidates. */
export function rotatedCertificates(from: Snapshot, to: Snapshot): string[] {
  const was = new Map(from.certificates.map((c) => [c.id, c.fingerprint]));
  const before = certificatesInUse(from);
  const after = certificatesInUse(to);
  return to.certificates
    .filter((c) => before.has(c.id) && after.has(c.id) && was.get(c.id) !== c.fingerprint)
    .map((c) => c.id);
}
