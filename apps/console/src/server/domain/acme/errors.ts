import { AppError } from "../../errors";

/**
 * A renewal found the certificate it replaces deleted (a row from before
 * certificate deletion took its ACME entry along, or a race with a delete).
 * Retrying cannot help: the entry stops until an operator deletes or recreates it.
 */
export class AcmeCertificateGoneError extends AppError {
  readonly code = "ACME_CERTIFICATE_GONE";
  constructor(
    readonly acmeName: string,
    readonly certificateId: string,
  ) {
    super(
      `The certificate this automatic entry renews (${certificateId}) was deleted; delete the entry ${acmeName} and create it again.`,
    );
  }
}
