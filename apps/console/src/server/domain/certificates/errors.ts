import { AppError } from "../../errors";

/*
 * One class per way an upload is refused. Each names the field to fix
 * (`chainPem` or `keyPem`, or `pkcs12` and `password` for a PKCS#12 file) in
 * fieldErrors, so the upload dialog shows the message next to that input; the
 * code is stable for API clients.
 */

/** `pem`: a CA bundle upload (ca-bundles.ts); `pkcs12` and `password`: a PKCS#12 upload. */
export type CertificateField = "chainPem" | "keyPem" | "pem" | "pkcs12" | "password";

export abstract class CertificateUploadError extends AppError {
  constructor(
    public field: CertificateField,
    message: string,
  ) {
    super(message, { [field]: message });
  }

  /**
   * The same refusal under another field: a PKCS#12 upload has no chain or
   * key field, so what the PEM checks say about them belongs to the file.
   */
  reportUnder(field: CertificateField): this {
    this.field = field;
    (this as { fieldErrors: Record<string, string> }).fieldErrors = { [field]: this.message };
    return this;
  }
}

/** Not PEM, a block that is not a certificate or key, DER that does not parse, an encrypted key. */
export class CertificatePemInvalidError extends CertificateUploadError {
  readonly code = "CERTIFICATE_PEM_INVALID";
}

/** The private key belongs to none of the certificates given. */
export class CertificateKeyMismatchError extends CertificateUploadError {
  readonly code = "CERTIFICATE_KEY_MISMATCH";
  constructor(message = "This key does not belong to the certificate: its public key is another one.") {
    super("keyPem", message);
  }
}

/** A certificate of the chain does not issue the one before it (after ordering). */
export class CertificateChainBrokenError extends CertificateUploadError {
  readonly code = "CERTIFICATE_CHAIN_BROKEN";
  constructor(message: string) {
    super("chainPem", message);
  }
}

export class CertificateExpiredError extends CertificateUploadError {
  readonly code = "CERTIFICATE_EXPIRED";
  constructor(message: string) {
    super("chainPem", message);
  }
}

export class CertificateNotYetValidError extends CertificateUploadError {
  readonly code = "CERTIFICATE_NOT_YET_VALID";
  constructor(message: string) {
    super("chainPem", message);
  }
}

/** Only RSA ≥ 2048 bits, EC P-256/P-384 and Ed25519 keys are served. */
export class CertificateKeyTypeError extends CertificateUploadError {
  readonly code = "CERTIFICATE_KEY_TYPE";
  constructor(message: string) {
    super("keyPem", message);
  }
}

/** A DNS name of the certificate that SNI cannot match (not a host name, or a wildcard not in the first label). */
export class CertificateNameInvalidError extends CertificateUploadError {
  readonly code = "CERTIFICATE_NAME_INVALID";
  constructor(message: string) {
    super("chainPem", message);
  }
}

/** The file is not a PKCS#12 archive we can read, or holds no key, several keys, no certificate. */
export class CertificatePkcs12InvalidError extends CertificateUploadError {
  readonly code = "CERTIFICATE_PKCS12_INVALID";
  constructor(message: string) {
    super("pkcs12", message);
  }
}

/** The PKCS#12 file's integrity check or decryption failed with the password given. */
export class CertificatePkcs12PasswordError extends CertificateUploadError {
  readonly code = "CERTIFICATE_PKCS12_PASSWORD";
  constructor(message = "Wrong password for this PKCS#12 file.") {
    super("password", message);
  }
}
