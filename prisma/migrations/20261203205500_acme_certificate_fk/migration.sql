-- AddForeignKey
ALTER TABLE "acme_certificates" ADD CONSTRAINT "acme_certificates_certificateId_fkey" FOREIGN KEY ("certificateId") REFERENCES "certificates"("id") ON DELETE NO ACTION ON UPDATE CASCADE;
