-- AlterTable
ALTER TABLE "pools" ADD COLUMN     "tls" JSONB;

-- CreateTable
CREATE TABLE "ca_bundles" (
    "id" TEXT NOT NULL,
    "clusterId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "pem" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "subjects" TEXT[],
    "notAfter" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ca_bundles_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "ca_bundles_clusterId_name_key" ON "ca_bundles"("clusterId", "name");

-- AddForeignKey
ALTER TABLE "ca_bundles" ADD CONSTRAINT "ca_bundles_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;
