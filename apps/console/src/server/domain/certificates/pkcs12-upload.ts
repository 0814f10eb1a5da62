import { CertificateUploadError } from "./errors";
import { type InspectedCertificate, inspectUpload } from "./inspect";
import { readPkcs12 } from "./pkcs12";

/**
 * A PKCS#12 upload (base64 of the file, and its password) read into PEM and
 * put through exactly the checks of a PEM upload; what those say about the
 * chain or the key is reported under the file's field, the only one the
 * form shows in this mode.
 */
export function inspectPkcs12Upload(
  input: { pkcs12: string; password: string },
  now = new Date(),
): InspectedCertificate {
  const pem = readPkcs12(Buffer.from(input.pkcs12, "base64"), input.password);
  try {
    return inspectUpload(pem, now);
  } catch (e) {
    if (e instanceof CertificateUploadError) throw e.reportUnder("pkcs12");
    throw e;
  }
}
