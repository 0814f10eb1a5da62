import { createSecureContext, type SecureContext, type SecureContextOptions } from "node:tls";
import {
  hstsHeaderValue,
  type ListenerTls,
  type SnapshotCertificate,
  type TlsMaterial,
  type TlsMinVersion,
} from "@fulcrum/protocol";
import { errorMessage, SnapshotInvalidError } from "../../../errors";
import { checkMaterial } from "./material";
import { SniTable } from "./sni-table";

/**
 * TLS 1.2 cipher suites offered: Mozilla's "intermediate" set (ECDHE key
 * exchange, AEAD only: AES-GCM and ChaCha20-Poly1305, ECDSA and RSA
 * certificates), without the DHE suites (slow, and nothing current needs
 * them). TLS 1.3 uses OpenSSL's default suites (AES-128-GCM, AES-256-GCM,
 * ChaCha20-Poly1305), all AEAD. The client's order wins (Mozilla's advice
 * when every suite offered is strong: a phone without AES hardware picks
 * ChaCha20).
 */
export const TLS12_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");
export const TLS13_CIPHERS = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

/** ALPN offered by a listener without HTTP/2. */
export const ALPN_PROTOCOLS = ["http/1.1"];
/** With HTTP/2 (listener `http2.h2`): the server's order wins, so a client offering both gets h2. */
export const ALPN_H2_PROTOCOLS = ["h2", "http/1.1"];

/** What every SecureContext of a listener shares: versions and suites. */
export function baseContextOptions(minVersion: TlsMinVersion): SecureContextOptions {
  return {
    minVersion,
    maxVersion: "TLSv1.3",
    ciphers: `${TLS13_CIPHERS}:${TLS12_CIPHERS}`,
    honorCipherOrder: false,
  };
}

/** A listener's TLS, compiled from the snapshot and the material sent with it. */
export interface CompiledTls {
  readonly sni: SniTable;
  readonly minVersion: TlsMinVersion;
  /**
   * The listener's own (no-SNI) context: the default certificate, or none
   * when unknown names are rejected (a client without SNI names nothing the
   * listener serves).
   */
  readonly serverContext: SecureContextOptions;
  /** The Strict-Transport-Security field value, or undefined when the listener sends none. */
  readonly hsts: string | undefined;
  /** Certificate ids, for logs and tests. */
  readonly certificateIds: readonly string[];
}

/**
 * Builds a listener's SecureContexts. Fails (SnapshotInvalidError, so the
 * snapshot is NACKed) when a certificate has no material, material for
 * another fingerprint, or material OpenSSL refuses.
 */
export function compileListenerTls(
  listenerName: string,
  tls: ListenerTls,
  certificates: ReadonlyMap<string, SnapshotCertificate>,
  material: ReadonlyMap<string, TlsMaterial>,
): CompiledTls {
  const base = baseContextOptions(tls.minVersion);
  const entries: { names: readonly string[]; context: SecureContext }[] = [];
  let defaultContext: SecureContext | undefined;
  let defaultOptions: SecureContextOptions | undefined;
  const keyTypes = new Map<string, string>();
  for (const id of tls.certificateIds) {
    const cert = certificates.get(id);
    if (cert === undefined) {
      throw new SnapshotInvalidError(`listener ${listenerName}: certificate ${id} is not in the snapshot`);
    }
    const m = material.get(id);
    if (m === undefined) {
      throw new SnapshotInvalidError(`listener ${listenerName}: no key material for certificate ${id}`);
    }
    const keyType = checkMaterial(m, cert.fingerprint);
    const options = { ...base, cert: m.chainPem, key: m.keyPem };
    let context: SecureContext;
    try {
      context = createSecureContext(options);
    } catch (e) {
      throw new SnapshotInvalidError(`certificate ${id}: OpenSSL refuses the material: ${errorMessage(e)}`, {
        cause: e,
      });
    }
    entries.push({ names: cert.names, context });
    keyTypes.set(id, keyType);
    if (id === tls.defaultCertificateId) {
      defaultContext = context;
      defaultOptions = options;
    }
  }
  if (defaultContext === undefined || defaultOptions === undefined) {
    throw new SnapshotInvalidError(
      `listener ${listenerName}: the default certificate ${tls.defaultCertificateId} is not one of its certificates`,
    );
  }
  const reject = tls.unknownName === "reject";
  if (!reject) refuseMixedKeyTypes(listenerName, tls.defaultCertificateId, keyTypes);
  return {
    sni: new SniTable(entries, defaultContext, reject),
    minVersion: tls.minVersion,
    serverContext: reject ? base : defaultOptions,
    hsts: tls.hsts ? hstsHeaderValue(tls.hsts) : undefined,
    certificateIds: tls.certificateIds,
  };
}

/**
 * Node's SNI callback adds the chosen certificate to the handshake without
 * removing the listener's own (default) one, and OpenSSL then picks between
 * them by key type and the client's preference: with an ECDSA default, a
 * client asking for a name whose certificate is RSA can get the ECDSA default
 * (seen with Node 20 / OpenSSL 3.0 and TLS 1.3). Serving the wrong certificate
 * would be silent, so a listener that keeps a default certificate must use one
 * key type; with unknownName "reject" the listener holds no certificate of its
 * own and may mix them.
 */
function refuseMixedKeyTypes(listenerName: string, defaultId: string, keyTypes: ReadonlyMap<string, string>) {
  const want = keyTypes.get(defaultId);
  for (const [id, type] of keyTypes) {
    if (type === want) continue;
    throw new SnapshotInvalidError(
      `listener ${listenerName}: certificate ${id} has a ${type} key and the default certificate ${defaultId} a ${want} key; ` +
        `the builtin engine serves one key type per listener that has a default certificate (set unknownName to "reject" to mix them)`,
    );
  }
}
