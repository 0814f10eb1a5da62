-- CreateTable
CREATE TABLE "health_events" (
    "id" TEXT NOT NULL,
    "clusterId" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "agentName" TEXT NOT NULL,
    "poolId" TEXT NOT NULL,
    "backendId" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "port" INTEGER NOT NULL,
    "state" TEXT NOT NULL,
    "reason" TEXT,
    "at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "health_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "health_events_clusterId_poolId_at_idx" ON "health_events"("clusterId", "poolId", "at");

-- CreateIndex
CREATE INDEX "health_events_at_idx" ON "health_events"("at");

-- Hand-written: Prisma's schema language cannot express CHECK constraints.
ALTER TABLE "health_events" ADD CONSTRAINT "health_events_state_check" CHECK ("state" IN ('up', 'down', 'ejected', 'restored', 'drained'));
