-- CreateEnum
CREATE TYPE "CertificateSource" AS ENUM ('upload', 'acme');

-- AlterTable
ALTER TABLE "listeners" ADD COLUMN     "tls" JSONB;

-- CreateTable
CREATE TABLE "certificates" (
    "id" TEXT NOT NULL,
    "clusterId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "chainPem" TEXT NOT NULL,
    "keyCiphertext" BYTEA NOT NULL,
    "encryptionKeyId" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "issuer" TEXT NOT NULL,
    "names" TEXT[],
    "ipAddresses" TEXT[],
    "keyType" TEXT NOT NULL,
    "notBefore" TIMESTAMP(3) NOT NULL,
    "notAfter" TIMESTAMP(3) NOT NULL,
    "source" "CertificateSource" NOT NULL DEFAULT 'upload',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "certificates_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "certificates_clusterId_notAfter_idx" ON "certificates"("clusterId", "notAfter");

-- CreateIndex
CREATE UNIQUE INDEX "certificates_clusterId_name_key" ON "certificates"("clusterId", "name");

-- AddForeignKey
ALTER TABLE "certificates" ADD CONSTRAINT "certificates_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written (Prisma's schema language cannot express them), like the first migration's checks.
ALTER TABLE "certificates" ADD CONSTRAINT "certificates_name_not_empty" CHECK (length("name") > 0);
ALTER TABLE "certificates" ADD CONSTRAINT "certificates_fingerprint_sha256" CHECK ("fingerprint" ~ '^[0-9a-f]{64}$');
