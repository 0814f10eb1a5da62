-- AlterTable
ALTER TABLE "backends" ADD COLUMN     "maxConnections" INTEGER;

-- AlterTable
ALTER TABLE "listeners" ADD COLUMN     "settings" JSONB NOT NULL DEFAULT '{}';

-- AlterTable
ALTER TABLE "pools" ADD COLUMN     "limits" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "outlierDetection" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "retries" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "slowStartMs" INTEGER NOT NULL DEFAULT 0;

-- Hand-written: Prisma's schema language cannot express CHECK constraints.
ALTER TABLE "backends" ADD CONSTRAINT "backends_maxConnections_check" CHECK ("maxConnections" IS NULL OR "maxConnections" >= 1);
ALTER TABLE "pools" ADD CONSTRAINT "pools_slowStartMs_check" CHECK ("slowStartMs" >= 0);
