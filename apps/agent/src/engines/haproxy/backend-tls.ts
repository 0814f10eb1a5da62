import { join } from "node:path";
import {
  type BackendTls,
  backendSni,
  type CaBundleMaterial,
  isCaBundlePem,
  isIpLiteral,
  isSniName,
  type Snapshot,
  type SnapshotBackend,
  type SnapshotPool,
} from "@fulcrum/protocol";
import { caBundleFingerprint } from "../../dataplane/pools/backend-tls";
import { SnapshotInvalidError } from "../../errors";
import { EngineUnsupportedError } from "./errors";
import { certPath } from "./tls-files";

/*
 * TLS to backends on the HAProxy engine: the server-line options, and the CA
 * bundle files (`ca/<id>.pem`, 0600, in their own 0700 subdirectory of the
 * certs dir so no bundle id can name a certificate's file; tls-store.ts writes
 * them). A client certificate is the certificate's own PEM file (chain and
 * key), the one a TLS listener uses.
 */

export const caBundleDir = (certDir: string) => join(certDir, "ca");
export const caBundlePath = (certDir: string, bundleId: string) =>
  join(caBundleDir(certDir), `${bundleId.replace(/[^A-Za-z0-9_.~-]/g, "_")}.pem`);

/**
 * The PEM files of the CA bundles pools verify against, path → text, after
 * the builtin engine's checks (the PEM's sha256 is the snapshot's
 * fingerprint). A missing or mismatched bundle is a SnapshotInvalidError:
 * NACK, nothing written.
 */
export function caBundleFiles(
  snapshot: Snapshot,
  bundles: readonly CaBundleMaterial[],
  certDir: string,
): Map<string, string> {
  const byId = new Map(bundles.map((b) => [b.id, b]));
  const refs = new Map(snapshot.caBundles.map((b) => [b.id, b]));
  const out = new Map<string, string>();
  for (const p of snapshot.pools) {
    const id = p.tls?.caBundleId;
    if (!id) continue;
    const ref = refs.get(id);
    const m = byId.get(id);
    if (!ref) throw new SnapshotInvalidError(`pool ${p.name}: CA bundle ${id} is not in the snapshot`);
    if (!m) throw new SnapshotInvalidError(`pool ${p.name}: no PEM for CA bundle ${id}`);
    if (!isCaBundlePem(m.pem))
      throw new SnapshotInvalidError(`pool ${p.name}: CA bundle ${id} is not CERTIFICATE PEM`);
    const got = caBundleFingerprint(m.pem);
    if (got !== ref.fingerprint) {
      throw new SnapshotInvalidError(
        `pool ${p.name}: CA bundle ${id} has fingerprint ${got}, the snapshot names ${ref.fingerprint}`,
      );
    }
    out.set(caBundlePath(certDir, id), m.pem);
  }
  return out;
}

/**
 * `server` options for TLS to one backend. Names are checked again here
 * (they go into the config): a bad one is a SnapshotInvalidError, never a
 * config line. With verification on, HAProxy checks the certificate's name
 * against the SNI it sends, and against `verifyhost` when it sends none;
 * with neither it would accept any certificate the CA signed. So, like the
 * builtin engine, a backend sent no SNI is checked against its host name;
 * an IP address cannot be (HAProxy matches DNS names only, not IP SANs): that
 * is an EngineUnsupportedError, the snapshot is NACKed.
 */
export function serverTlsOptions(
  tls: BackendTls,
  b: SnapshotBackend,
  certDir: string,
  /** "h2" for a pool whose upstream protocol is HTTP/2 over TLS (http2.ts). */
  alpn: "h2" | "http/1.1" = "http/1.1",
): string[] {
  const parts = ["ssl", `ssl-min-ver ${tls.minVersion}`, `alpn ${alpn}`];
  if (tls.verify === "none") parts.push("verify none");
  else {
    const ca = tls.verify === "system" ? "@system-ca" : caBundlePath(certDir, tls.caBundleId ?? "");
    parts.push("verify required", `ca-file ${ca}`);
  }
  const sni = backendSni(tls, b.address);
  if (sni !== undefined) {
    if (!isSniName(sni))
      throw new SnapshotInvalidError(`backend ${b.id}: SNI ${JSON.stringify(sni)} is not a host name`);
    parts.push(`sni str(${sni})`, `check-sni ${sni}`);
  } else if (tls.verify !== "none") parts.push(`verifyhost ${verifyHostName(b)}`);
  if (tls.clientCertificateId) parts.push(`crt ${certPath(certDir, tls.clientCertificateId)}`);
  parts.push("check-ssl");
  return parts;
}

/** The name HAProxy checks a backend's certificate against when it sends no SNI. */
function verifyHostName(b: SnapshotBackend): string {
  const name = b.address.toLowerCase().replace(/\.$/, "");
  if (isSniName(name)) return name;
  if (isIpLiteral(b.address))
    throw new EngineUnsupportedError(
      `backend ${b.id} (${b.address}): HAProxy cannot check a certificate against an IP address; set the pool's SNI to a fixed name or turn verification off`,
    );
  throw new SnapshotInvalidError(`backend ${b.id}: address ${JSON.stringify(b.address)} is not a host name`);
}

/**
 * A comment naming the fingerprints the pool's TLS files hold: a rotated
 * bundle or client certificate changes the rendered structure, so the engine
 * reloads (HAProxy reads these files at start) instead of a runtime update.
 */
export function tlsFingerprintComment(pool: SnapshotPool, snapshot: Snapshot): string[] {
  const tls = pool.tls;
  if (!tls) return [];
  const bundle = snapshot.caBundles.find((c) => c.id === tls.caBundleId)?.fingerprint ?? "-";
  const client = snapshot.certificates.find((c) => c.id === tls.clientCertificateId)?.fingerprint ?? "-";
  return [`# backend tls: ca-file ${bundle} crt ${client}`];
}
