"use client";

import { createContext, useContext } from "react";
import { can, type Permission, type Role } from "../server/permissions";
import type { Cluster, Me } from "./api-types";

export const MeContext = createContext<Me | null>(null);

/** The signed-in actor (from setup.me). Only valid inside the console shell. */
export function useMe(): Me {
  const me = useContext(MeContext);
  if (!me) throw new Error("useMe() used outside the console shell");
  return me;
}

/** Whether the signed-in role holds a permission; use it to hide controls (the server checks too). */
export function useCan(): (permission: Permission) => boolean {
  const me = useMe();
  return (permission) => can(me.role as Role, permission);
}

export interface ClusterContextValue {
  clusterId: string;
  cluster: Cluster;
  clusters: Cluster[];
  setClusterId: (id: string) => void;
}

export const ClusterContext = createContext<ClusterContextValue | null>(null);

/** The cluster chosen in the top bar. Pages under the shell can rely on it being set. */
export function useCluster(): ClusterContextValue {
  const value = useContext(ClusterContext);
  if (!value) throw new Error("useCluster() used outside a selected cluster");
  return value;
}
