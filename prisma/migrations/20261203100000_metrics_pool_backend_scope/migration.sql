-- Rollups of a backend's traffic in one pool (scope "pool_backend", id "<poolId>/<backendId>"),
-- so a backend moved between pools shows its rate in each pool. Hand-written: Prisma's
-- schema language cannot express CHECK constraints.
ALTER TABLE "metric_rollups" DROP CONSTRAINT "metric_rollups_scope_check";
ALTER TABLE "metric_rollups" ADD CONSTRAINT "metric_rollups_scope_check" CHECK ("scope" IN ('cluster', 'listener', 'route', 'pool', 'backend', 'pool_backend', 'agent'));
