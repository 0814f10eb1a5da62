-- CreateTable
CREATE TABLE "metric_rollups" (
    "clusterId" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "scopeId" TEXT NOT NULL,
    "minute" TIMESTAMP(3) NOT NULL,
    "counters" JSONB NOT NULL DEFAULT '{}',
    "latency" JSONB NOT NULL DEFAULT '{}',
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "metric_rollups_pkey" PRIMARY KEY ("clusterId","scope","scopeId","minute")
);

-- CreateTable
CREATE TABLE "agent_config_events" (
    "id" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "agentName" TEXT NOT NULL,
    "clusterId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "reason" TEXT,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "agent_config_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "metric_rollups_minute_idx" ON "metric_rollups"("minute");

-- CreateIndex
CREATE INDEX "agent_config_events_clusterId_at_idx" ON "agent_config_events"("clusterId", "at");

-- CreateIndex
CREATE INDEX "agent_config_events_at_idx" ON "agent_config_events"("at");

-- Hand-written: Prisma's schema language cannot express CHECK constraints.
ALTER TABLE "metric_rollups" ADD CONSTRAINT "metric_rollups_scope_check" CHECK ("scope" IN ('cluster', 'listener', 'route', 'pool', 'backend', 'agent'));
ALTER TABLE "agent_config_events" ADD CONSTRAINT "agent_config_events_kind_check" CHECK ("kind" IN ('ack', 'nack'));
