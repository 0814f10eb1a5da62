import { MAX_AGENT_FRAME_BYTES } from "@fulcrum/protocol";
import { describe, expect, it } from "vitest";
import { agentLimitsFromEnv } from "../src/server/gateway/agent-limits";

// Cast: Next augments ProcessEnv with a required NODE_ENV.
const env = (burst: number) => ({ FULCRUM_AGENT_BYTE_BURST: String(burst) }) as unknown as NodeJS.ProcessEnv;

describe("FULCRUM_AGENT_BYTE_BURST", () => {
  it("is refused below the agent frame cap (one frame must fit in the burst) and accepted at it", () => {
    expect(() => agentLimitsFromEnv(env(MAX_AGENT_FRAME_BYTES - 1))).toThrow(
      /FULCRUM_AGENT_BYTE_BURST must be between 8388608/,
    );
    expect(agentLimitsFromEnv(env(MAX_AGENT_FRAME_BYTES)).byteBurst).toBe(MAX_AGENT_FRAME_BYTES);
  });
});
