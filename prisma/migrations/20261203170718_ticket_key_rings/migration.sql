-- CreateTable
CREATE TABLE "ticket_key_rings" (
    "clusterId" TEXT NOT NULL,
    "generation" INTEGER NOT NULL,
    "keysCiphertext" BYTEA NOT NULL,
    "encryptionKeyId" TEXT NOT NULL,
    "rotatedAt" TIMESTAMP(3) NOT NULL,
    "nextRotationAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ticket_key_rings_pkey" PRIMARY KEY ("clusterId")
);

-- CreateIndex
CREATE INDEX "ticket_key_rings_nextRotationAt_idx" ON "ticket_key_rings"("nextRotationAt");

-- AddForeignKey
ALTER TABLE "ticket_key_rings" ADD CONSTRAINT "ticket_key_rings_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Added by hand: generations start at 1 (the protocol's ticketKeyRingSchema refuses 0).
ALTER TABLE "ticket_key_rings" ADD CONSTRAINT "ticket_key_rings_generation_check" CHECK ("generation" >= 1);
