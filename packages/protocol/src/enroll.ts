import { z } from "zod";

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
