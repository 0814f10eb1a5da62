import { createRequire } from "node:module";
// Types likewise from the agent's @types/ws.
import type WebSocketType from "../../apps/agent/node_modules/@types/ws/index.d.ts";

/**
 * `ws` is not a dependency of @fulcrum/bench (adding it needs `pnpm install`), so it is
 * loaded from the agent's own dependencies: the same `ws` build the real agent dials with.
 */
const requireFromAgent = createRequire(new URL("../../apps/agent/package.json", import.meta.url));
export const WebSocket = requireFromAgent("ws") as typeof WebSocketType;
export type WebSocket = WebSocketType;
