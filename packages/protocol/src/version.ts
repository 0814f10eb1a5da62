/** Wire protocol versions this build speaks. Negotiated in hello/welcome. */
export const PROTOCOL_VERSION = 1;
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1];

/** Path on the console's HTTP server where agents open their WebSocket. */
export const AGENT_GATEWAY_PATH = "/agent/ws";
/** Path where an agent exchanges an enrollment token for its own credential. */
export const AGENT_ENROLL_PATH = "/api/agents/enroll";

/**
 * Largest frame an agent may send the console (the gateway closes with 1009
 * above it, before buffering). 8 MiB so one stats keyframe of a 10,000+ backend
 * agent (~2.6 MB) fits alone; equal to the gateway's default byte burst, which
 * must never be below it. Stats batches are packed far below it
 * (STATS_MESSAGE_BYTE_BUDGET).
 */
export const MAX_AGENT_FRAME_BYTES = 8 * 1024 * 1024;
