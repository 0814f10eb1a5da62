-- CreateEnum
CREATE TYPE "AcmeStatus" AS ENUM ('pending', 'valid', 'failed', 'renewing');

-- CreateTable
CREATE TABLE "acme_accounts" (
    "id" TEXT NOT NULL,
    "directoryUrl" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "accountUrl" TEXT,
    "keyCiphertext" BYTEA NOT NULL,
    "encryptionKeyId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "acme_accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "acme_certificates" (
    "id" TEXT NOT NULL,
    "clusterId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "names" TEXT[],
    "listenerId" TEXT,
    "certificateId" TEXT,
    "status" "AcmeStatus" NOT NULL DEFAULT 'pending',
    "lastError" TEXT,
    "failures" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "acme_certificates_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "acme_challenges" (
    "id" TEXT NOT NULL,
    "clusterId" TEXT NOT NULL,
    "acmeCertificateId" TEXT NOT NULL,
    "token" TEXT NOT NULL,
    "keyAuthorization" TEXT NOT NULL,
    "host" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "acme_challenges_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "acme_accounts_directoryUrl_email_key" ON "acme_accounts"("directoryUrl", "email");

-- CreateIndex
CREATE UNIQUE INDEX "acme_certificates_certificateId_key" ON "acme_certificates"("certificateId");

-- CreateIndex
CREATE INDEX "acme_certificates_nextAttemptAt_idx" ON "acme_certificates"("nextAttemptAt");

-- CreateIndex
CREATE UNIQUE INDEX "acme_certificates_clusterId_name_key" ON "acme_certificates"("clusterId", "name");

-- CreateIndex
CREATE INDEX "acme_challenges_acmeCertificateId_idx" ON "acme_challenges"("acmeCertificateId");

-- CreateIndex
CREATE UNIQUE INDEX "acme_challenges_clusterId_token_key" ON "acme_challenges"("clusterId", "token");

-- AddForeignKey
ALTER TABLE "acme_certificates" ADD CONSTRAINT "acme_certificates_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "acme_challenges" ADD CONSTRAINT "acme_challenges_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;
