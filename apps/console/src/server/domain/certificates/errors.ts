import { AppError } from "../../errors";

/*
 * One class per way an upload is refused. Each names the field to fix
 * (`chainPem` or `keyPem`) in fieldErrors, so the upload dialog shows the
 * message next to that input; the code is stable for API clients.
 */

/** `pem`: a CA bundle upload (ca-bundles.ts). */
export type CertificateField = "chainPem" | "keyPem" | "pem";

abstract class CertificateUploadError extends AppError {
  constructor(
    readonly field: CertificateField,
    message: string,
  ) {
    super(message, { [field]: message });
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
