import { createHash, X509Certificate } from "node:crypto";
import { type ConnectionOptions, createSecureContext, type SecureContext } from "node:tls";
import {
  type BackendTls,
  backendSni,
  type CaBundleMaterial,
  isCaBundlePem,
  isSniName,
  type SnapshotCaBundle,
  type SnapshotCertificate,
  type TlsMaterial,
} from "@fulcrum/protocol";
import { errorMessage, SnapshotInvalidError } from "../../errors";
import { checkMaterial } from "../frontends/tls/material";
import { UpstreamTlsError } from "../http/proxy-errors";

/**
 * A pool's TLS to its backends, compiled once per settings: one
 * SecureContext (trust, client certificate, minimum version) shared by every
 * connection and health check, and the last TLS session per backend and SNI,
 * so a new connection resumes instead of a full handshake.
 */
export class TlsOrigin {
  /** Last session ticket/ID per "backend key|sni"; bounded by the pool's backends. */
  private readonly sessions = new Map<string, Buffer>();

  constructor(
    /** Same settings, bundle and certificate → same key: pooled connections and checkers are kept by it. */
    readonly key: string,
    readonly settings: BackendTls,
    private readonly context: SecureContext,
  ) {}

  /** tls.connect options for one backend (host and port added by the caller). */
  connectOptions(backendKey: string, address: string): ConnectionOptions {
    const sni = backendSni(this.settings, address);
    // The schema checked the name; a snapshot that bypassed it sends no SNI rather than a bad one.
    const servername = sni !== undefined && isSniName(sni) ? sni : undefined;
    const session = this.sessions.get(`${backendKey}|${servername ?? ""}`);
    return {
      secureContext: this.context,
      // "" keeps Node from sending the address as SNI; identity is then checked against the address.
      servername: servername ?? "",
      rejectUnauthorized: this.settings.verify !== "none",
      ALPNProtocols: ["http/1.1"],
      ...(session ? { session } : {}),
    };
  }

  /** Remembers a session the backend handed out (tls 'session' event), for the next connection's resumption. */
  rememberSession(backendKey: string, servername: string | undefined, session: Buffer): void {
    this.sessions.set(`${backendKey}|${servername ?? ""}`, session);
  }
}

/** The key pooled upstream connections to one backend are kept by: TLS and plain ones never mix. */
export function connKeyOf(backendKey: string, tls: TlsOrigin | undefined): string {
  return tls === undefined ? backendKey : `${backendKey}|tls:${tls.key}`;
}

/** A TLS socket error turned into one that says what failed, for logs, health reasons and 502s. */
export function upstreamTlsError(e: Error, where: string): UpstreamTlsError {
  const code = (e as NodeJS.ErrnoException).code;
  const verify = code !== undefined && (VERIFY_CODES.has(code) || code === "ERR_TLS_CERT_ALTNAME_INVALID");
  const what = verify ? "certificate verify failed" : "TLS handshake failed";
  return new UpstreamTlsError(`${what}: ${errorMessage(e)} (${where})`, { cause: e });
}

/** OpenSSL's X509 verification results as Node names them (the common ones). */
const VERIFY_CODES = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "INVALID_CA",
  "HOSTNAME_MISMATCH",
]);

/** sha256 of a CA bundle's PEM text: the fingerprint the snapshot names bundles by. */
export function caBundleFingerprint(pem: string): string {
  return createHash("sha256").update(pem, "utf8").digest("hex");
}

export interface TlsOriginInputs {
  readonly certificates: ReadonlyMap<string, SnapshotCertificate>;
  readonly tlsMaterial: ReadonlyMap<string, TlsMaterial>;
  readonly caBundles: ReadonlyMap<string, SnapshotCaBundle>;
  readonly caBundleMaterial: ReadonlyMap<string, CaBundleMaterial>;
}

/**
 * Checks a pool's TLS settings against what came with the snapshot and
 * builds its context. Every problem (a bundle missing, with another
 * fingerprint or unreadable; client key material missing or not matching)
 * is a SnapshotInvalidError naming the pool, so the snapshot is NACKed.
 * `reuse`: an origin built for an earlier snapshot, kept when its key matches.
 */
export function compileTlsOrigin(
  poolName: string,
  tls: BackendTls,
  inputs: TlsOriginInputs,
  reuse: (key: string) => TlsOrigin | undefined,
): TlsOrigin {
  const bad = (what: string, e?: unknown) =>
    new SnapshotInvalidError(`pool ${poolName}: ${what}${e === undefined ? "" : `: ${errorMessage(e)}`}`, {
      cause: e,
    });
  let ca: string | undefined;
  let bundleFingerprint = "";
  if (tls.verify === "ca") {
    const id = tls.caBundleId ?? "";
    const ref = inputs.caBundles.get(id);
    const m = inputs.caBundleMaterial.get(id);
    if (!ref) throw bad(`CA bundle ${id} is not in the snapshot`);
    if (!m) throw bad(`no PEM for CA bundle ${id}`);
    if (!isCaBundlePem(m.pem)) throw bad(`CA bundle ${id} is not CERTIFICATE PEM blocks`);
    const got = caBundleFingerprint(m.pem);
    if (got !== ref.fingerprint)
      throw bad(`CA bundle ${id} has fingerprint ${got}, the snapshot names ${ref.fingerprint}`);
    for (const block of m.pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []) {
      try {
        new X509Certificate(block);
      } catch (e) {
        throw bad(`CA bundle ${id} holds a certificate that cannot be read`, e);
      }
    }
    ca = m.pem;
    bundleFingerprint = got;
  }
  let client: TlsMaterial | undefined;
  if (tls.clientCertificateId) {
    const id = tls.clientCertificateId;
    const ref = inputs.certificates.get(id);
    client = inputs.tlsMaterial.get(id);
    if (!ref) throw bad(`client certificate ${id} is not in the snapshot`);
    if (!client) throw bad(`no key material for client certificate ${id}`);
    try {
      checkMaterial(client, ref.fingerprint);
    } catch (e) {
      throw bad("client certificate", e);
    }
  }
  const key = JSON.stringify([tls, bundleFingerprint, client?.fingerprint ?? ""]);
  const kept = reuse(key);
  if (kept) return kept;
  let context: SecureContext;
  try {
    context = createSecureContext({
      minVersion: tls.minVersion,
      // undefined: Node's root store (Mozilla's, plus NODE_EXTRA_CA_CERTS) for "system"; unused for "none".
      ...(ca !== undefined ? { ca } : {}),
      ...(client ? { cert: client.chainPem, key: client.keyPem } : {}),
    });
  } catch (e) {
    throw bad("cannot build the TLS context", e);
  }
  return new TlsOrigin(key, tls, context);
}

/**
 * Origins by key, kept across snapshots while some pool uses the same
 * settings, so sessions survive a reload; compile asks, commit prunes.
 */
export class TlsOrigins {
  private live = new Map<string, TlsOrigin>();

  get(key: string): TlsOrigin | undefined {
    return this.live.get(key);
  }

  retainOnly(used: Iterable<TlsOrigin>): void {
    this.live = new Map([...used].map((o) => [o.key, o]));
  }
}
