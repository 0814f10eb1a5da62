"use client";

import Link from "next/link";

/**
 * Laid over a chart grid that has nothing to show, so the grid keeps its size and
 * the first request replaces the message without moving anything.
 */
export function NoTrafficOverlay({
  title = "No traffic yet",
  children,
}: {
  title?: string;
  children?: React.ReactNode;
}) {
  return (
    <div className="absolute inset-0 z-[1] flex items-start justify-center rounded-lg bg-zinc-50/75 px-4 pt-16 backdrop-blur-[1px] dark:bg-zinc-950/75">
      <div
        role="status"
        className="max-w-md rounded-lg border border-dashed border-zinc-300 bg-white px-6 py-5 text-center shadow-xs dark:border-zinc-700 dark:bg-zinc-900"
      >
        <h3 className="text-sm font-semibold">{title}</h3>
        <div className="mt-1 text-sm text-zinc-500 dark:text-zinc-400">
          {children ?? (
            <>
              Requests show up here within a second of reaching a node. To get traffic,{" "}
              <Link
                href="/agents"
                className="font-medium text-indigo-600 hover:underline dark:text-indigo-400"
              >
                enroll an agent
              </Link>{" "}
              on a load-balancer node,{" "}
              <Link
                href="/listeners"
                className="font-medium text-indigo-600 hover:underline dark:text-indigo-400"
              >
                add a listener
              </Link>{" "}
              with a route to a pool, then send requests to the listener&apos;s port.
            </>
          )}
        </div>
      </div>
    </div>
  );
}
