import { z } from "zod";
import { isLoopbackHost } from "./grammar";

/**
 * The agent's console arguments for `consoleUrl`: `--console URL`, plus
 * `--insecure-console-url` when it is plain http to another host (the agent
 * refuses that without the flag, which makes the choice visible).
 */
export function agentConsoleArgs(consoleUrl: string): string {
  const url = new URL(consoleUrl);
  const insecure = url.protocol === "http:" && !isLoopbackHost(url.hostname);
  return `--console ${consoleUrl}${insecure ? " --insecure-console-url" : ""}`;
}

/** Body of POST AGENT_ENROLL_PATH. */
export const enrollRequestSchema = z.object({
  token: z.string().min(16).max(256),
  name: z.string().min(1).max(128),
});
export type EnrollRequest = z.infer<typeof enrollRequestSchema>;

export const enrollResponseSchema = z.object({
  agentId: z.string(),
  clusterId: z.string(),
  credential: z.string(),
});
export type EnrollResponse = z.infer<typeof enrollResponseSchema>;
