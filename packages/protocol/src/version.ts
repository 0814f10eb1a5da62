/** Wire protocol versions this build speaks. Negotiated in hello/welcome. */
export const PROTOCOL_VERSION = 1;
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1];

/** Path on the console's HTTP server where agents open their WebSocket. */
export const AGENT_GATEWAY_PATH = "/agent/ws";
/** Path where an agent exchanges an enrollment token for its own credential. */
export const AGENT_ENROLL_PATH = "/api/agents/enroll";

/** Largest frame an agent may send the console; stats and health batches stay far below it. */
export const MAX_AGENT_FRAME_BYTES = 2 * 1024 * 1024;
