import {
  acmeCreateInput,
  acmeIdInput,
  acmeListInput,
  createAcmeCertificate,
  deleteAcmeCertificate,
  listAcmeCertificates,
  renewAcmeCertificateNow,
} from "../../domain/acme/requests";
import { deleteCaBundle, listCaBundles, uploadCaBundle } from "../../domain/certificates/ca-bundles";
import {
  deleteCertificate,
  getCertificate,
  listCertificates,
  renameCertificate,
  replaceCertificate,
  uploadCertificate,
  uploadPkcs12Certificate,
} from "../../domain/certificates/certificates";
import {
  caBundleUploadInput,
  certificateIdInput,
  certificateListInput,
  certificatePkcs12Input,
  certificateRenameInput,
  certificateReplaceInput,
  certificateUploadInput,
} from "../../domain/certificates/schemas";
import { ticketKeyState } from "../../domain/ticket-keys/ring-store";
import { procedure, router } from "../init";

/** PEM is text in lines; inspect.ts reads it strictly (base64 between armour lines). */
const PEM_FIELDS = { multiline: ["chainPem", "keyPem"] } as const;

/** Certificates of a cluster (issue 16). No procedure returns a private key, encrypted or not. */
export const certificateRouter = router({
  list: procedure("certificate.read")
    .input(certificateListInput)
    .query(({ ctx, input }) => listCertificates(ctx.services, input.clusterId)),
  get: procedure("certificate.read")
    .input(certificateIdInput)
    .query(({ ctx, input }) => getCertificate(ctx.services, input.id)),
  upload: procedure("certificate.write", PEM_FIELDS)
    .input(certificateUploadInput)
    .mutation(({ ctx, input }) => uploadCertificate(ctx.services, ctx.actor, input)),
  /** The same from a .p12/.pfx file sent as base64, with its password. */
  uploadPkcs12: procedure("certificate.write")
    .input(certificatePkcs12Input)
    .mutation(({ ctx, input }) => uploadPkcs12Certificate(ctx.services, ctx.actor, input)),
  replace: procedure("certificate.write", PEM_FIELDS)
    .input(certificateReplaceInput)
    .mutation(({ ctx, input }) => replaceCertificate(ctx.services, ctx.actor, input)),
  rename: procedure("certificate.write")
    .input(certificateRenameInput)
    .mutation(({ ctx, input }) => renameCertificate(ctx.services, ctx.actor, input)),
  delete: procedure("certificate.write")
    .input(certificateIdInput)
    .mutation(({ ctx, input }) => deleteCertificate(ctx.services, ctx.actor, input.id)),
  /** The cluster's session-ticket key ring: generation, last and next rotation; never a key. */
  ticketKeys: procedure("certificate.read")
    .input(certificateListInput)
    .query(({ ctx, input }) =>
      ticketKeyState(
        { prisma: ctx.services.prisma, rotationMs: ctx.services.config.ticketKeyRotationMs },
        input.clusterId,
      ),
    ),
  /** Trusted CAs: bundles pools verify their backends against (TLS to backends). */
  caList: procedure("certificate.read")
    .input(certificateListInput)
    .query(({ ctx, input }) => listCaBundles(ctx.services, input.clusterId)),
  caUpload: procedure("certificate.write", { multiline: ["pem"] })
    .input(caBundleUploadInput)
    .mutation(({ ctx, input }) => uploadCaBundle(ctx.services, ctx.actor, input)),
  caDelete: procedure("certificate.write")
    .input(certificateIdInput)
    .mutation(({ ctx, input }) => deleteCaBundle(ctx.services, ctx.actor, input.id)),
  /** Automatic (ACME) certificates: status, last error, next attempt. */
  acmeList: procedure("certificate.read")
    .input(acmeListInput)
    .query(({ ctx, input }) => listAcmeCertificates(ctx.services, input.clusterId)),
  acmeCreate: procedure("certificate.write")
    .input(acmeCreateInput)
    .mutation(({ ctx, input }) => createAcmeCertificate(ctx.services, ctx.actor, input)),
  acmeRenewNow: procedure("certificate.write")
    .input(acmeIdInput)
    .mutation(({ ctx, input }) => renewAcmeCertificateNow(ctx.services, ctx.actor, input.id)),
  /** Stops the automation; the certificate it issued stays. */
  acmeDelete: procedure("certificate.write")
    .input(acmeIdInput)
    .mutation(({ ctx, input }) => deleteAcmeCertificate(ctx.services, ctx.actor, input.id)),
});
