import type { Actor } from "../actor";
import { rollbackConfig } from "../rollback";
import {
  bulkSetBackendState,
  bulkSetBackendWeight,
  createBackend,
  deleteBackend,
  moveBackends,
  updateBackend,
} from "../topology/backends";
import { createListener, deleteListener, updateListener } from "../topology/listeners";
import { createPool, deletePool, updatePool } from "../topology/pools";
import { createRoute, deleteRoute, updateRoute } from "../topology/routes";
import type { TopologyDeps } from "../topology-change";
import type { ChangeRequest } from "./requests";

/**
 * Runs the domain function of the mutation a change request describes: the
 * very code path `change.preview` dry-runs, so a preview validates exactly
 * like the real change.
 */
export async function applyChange(deps: TopologyDeps, actor: Actor, req: ChangeRequest): Promise<unknown> {
  switch (req.kind) {
    case "backend.move":
      return moveBackends(deps, actor, req.input);
    case "backend.setState":
      return bulkSetBackendState(deps, actor, req.input);
    case "backend.setWeight":
      return bulkSetBackendWeight(deps, actor, req.input);
    case "backend.create":
      return createBackend(deps, actor, req.input);
    case "backend.update":
      return updateBackend(deps, actor, req.input);
    case "backend.delete":
      return deleteBackend(deps, actor, req.input.id);
    case "pool.create":
      return createPool(deps, actor, req.input);
    case "pool.update":
      return updatePool(deps, actor, req.input);
    case "pool.delete":
      return deletePool(deps, actor, req.input.id);
    case "listener.create":
      return createListener(deps, actor, req.input);
    case "listener.update":
      return updateListener(deps, actor, req.input);
    case "listener.delete":
      return deleteListener(deps, actor, req.input.id);
    case "route.create":
      return createRoute(deps, actor, req.input);
    case "route.update":
      return updateRoute(deps, actor, req.input);
    case "route.delete":
      return deleteRoute(deps, actor, req.input.id);
    case "config.rollback":
      return rollbackConfig(deps, actor, req.input.clusterId, req.input.version);
  }
}
