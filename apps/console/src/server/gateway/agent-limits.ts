import { MAX_AGENT_FRAME_BYTES } from "@fulcrum/protocol";
import { z } from "zod";

/** What one agent connection may send the console; see docs/operations.md ("Agent limits"). */
export interface AgentLimits {
  /** Frames a second, sustained, and the burst allowed above it. */
  framesPerSecond: number;
  frameBurst: number;
  /** Bytes a second (frame payloads), sustained, and the burst allowed above it; over it reading pauses. */
  bytesPerSecond: number;
  byteBurst: number;
  /** Frames dropped over the limits within FLOOD_WINDOW_MS after which the agent is closed (4429). */
  floodDrops: number;
  /** How long an agent closed for flooding is refused (HTTP 429 with Retry-After) before it may reconnect. */
  floodBackoffMs: number;
  /** Health events (state changes, after de-duplication) a second, sustained, and the burst above it. */
  healthEventsPerSecond: number;
  healthEventBurst: number;
  /** Connections one credential may open a minute, sustained, and the burst above it (each costs a lookup and a snapshot). */
  connectsPerMinute: number;
  connectBurst: number;
}

/**
 * Defaults, measured against a real agent: it sends one or two frames a second
 * (a stats point each second, a heartbeat every 5 s, health batches at most
 * every 250 ms, one ack per snapshot), and a stats backlog after a reconnect
 * one frame of up to 60 points at a time (15 frames for the 15 minutes it
 * keeps); so 20 frames a second sustained, 60 at once, is far above it, and an
 * agent's burst costs the console little parsing. Its stats under load were ~13 KB/s for 20 busy backends
 * (~650 bytes per backend a second); stats messages are packed to at most
 * 1 MiB (STATS_MESSAGE_BYTE_BUDGET; a lone keyframe point up to the 8 MiB frame
 * cap), so 2 MiB a second reads everything a real agent sends each second.
 * Bytes over the rate are not lost, only read more slowly.
 */
export const DEFAULT_AGENT_LIMITS: Readonly<AgentLimits> = {
  framesPerSecond: 20,
  frameBurst: 60,
  bytesPerSecond: 2 * 1024 * 1024,
  byteBurst: 8 * 1024 * 1024,
  floodDrops: 500,
  floodBackoffMs: 30_000,
  healthEventsPerSecond: 200,
  healthEventBurst: 10_000,
  connectsPerMinute: 12,
  connectBurst: 10,
};

/** Failed agent authentications allowed per client address: a burst, then a few a second (refused before the database). */
export const FAILED_AUTH_BURST = 100;
export const FAILED_AUTH_PER_SECOND = 10;

/** Drops are counted in windows of this length for the flood decision. */
export const FLOOD_WINDOW_MS = 10_000;

/** A whole number written in decimal, nothing else (no hex, no exponent, no sign). */
const whole = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]{1,12}$/, `${name} must be a whole number`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `${name} must be between ${min} and ${max}`)
    .optional();

const envSchema = z.object({
  FULCRUM_AGENT_FRAMES_PER_SECOND: whole("FULCRUM_AGENT_FRAMES_PER_SECOND", 1, 100_000),
  FULCRUM_AGENT_FRAME_BURST: whole("FULCRUM_AGENT_FRAME_BURST", 1, 1_000_000),
  FULCRUM_AGENT_BYTES_PER_SECOND: whole("FULCRUM_AGENT_BYTES_PER_SECOND", 1024, 1024 ** 3),
  // Never below the frame cap: the burst is what one frame may take at once.
  FULCRUM_AGENT_BYTE_BURST: whole("FULCRUM_AGENT_BYTE_BURST", MAX_AGENT_FRAME_BYTES, 1024 ** 3),
  FULCRUM_AGENT_FLOOD_DROPS: whole("FULCRUM_AGENT_FLOOD_DROPS", 1, 10_000_000),
  FULCRUM_AGENT_FLOOD_BACKOFF_SECONDS: whole("FULCRUM_AGENT_FLOOD_BACKOFF_SECONDS", 1, 86_400),
  FULCRUM_AGENT_HEALTH_EVENTS_PER_SECOND: whole("FULCRUM_AGENT_HEALTH_EVENTS_PER_SECOND", 1, 1_000_000),
  FULCRUM_AGENT_HEALTH_EVENT_BURST: whole("FULCRUM_AGENT_HEALTH_EVENT_BURST", 1000, 10_000_000),
  FULCRUM_AGENT_CONNECTS_PER_MINUTE: whole("FULCRUM_AGENT_CONNECTS_PER_MINUTE", 1, 60_000),
  FULCRUM_AGENT_CONNECT_BURST: whole("FULCRUM_AGENT_CONNECT_BURST", 1, 10_000),
});

/** Reads the FULCRUM_AGENT_* settings once, at start; says exactly what to fix when one is wrong. */
export function agentLimitsFromEnv(env: NodeJS.ProcessEnv): AgentLimits {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid console configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const d = DEFAULT_AGENT_LIMITS;
  return {
    framesPerSecond: e.FULCRUM_AGENT_FRAMES_PER_SECOND ?? d.framesPerSecond,
    frameBurst: e.FULCRUM_AGENT_FRAME_BURST ?? d.frameBurst,
    bytesPerSecond: e.FULCRUM_AGENT_BYTES_PER_SECOND ?? d.bytesPerSecond,
    byteBurst: e.FULCRUM_AGENT_BYTE_BURST ?? d.byteBurst,
    floodDrops: e.FULCRUM_AGENT_FLOOD_DROPS ?? d.floodDrops,
    floodBackoffMs: (e.FULCRUM_AGENT_FLOOD_BACKOFF_SECONDS ?? d.floodBackoffMs / 1000) * 1000,
    healthEventsPerSecond: e.FULCRUM_AGENT_HEALTH_EVENTS_PER_SECOND ?? d.healthEventsPerSecond,
    healthEventBurst: e.FULCRUM_AGENT_HEALTH_EVENT_BURST ?? d.healthEventBurst,
    connectsPerMinute: e.FULCRUM_AGENT_CONNECTS_PER_MINUTE ?? d.connectsPerMinute,
    connectBurst: e.FULCRUM_AGENT_CONNECT_BURST ?? d.connectBurst,
  };
}
