"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "./trpc";

/**
 * After a topology write: pools, listeners (their routes show pool names),
 * the cluster counts, the config history and the agents' desired version all move.
 */
export function useInvalidateTopology(): () => Promise<void> {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return async () => {
    await Promise.all([
      // Every pool query: the list, the board's lean shape, a pool's summary and backend pages.
      queryClient.invalidateQueries({ queryKey: trpc.pool.pathKey() }),
      queryClient.invalidateQueries({ queryKey: trpc.listener.list.queryKey() }),
      queryClient.invalidateQueries({ queryKey: trpc.cluster.list.queryKey() }),
      queryClient.invalidateQueries({ queryKey: trpc.config.versions.queryKey() }),
      queryClient.invalidateQueries({ queryKey: trpc.agent.list.queryKey() }),
    ]);
  };
}
