import type { z } from "zod";
import {
  type AgentMessage,
  type AgentMessageType,
  type AgentPayload,
  agentMessageSchema,
  type ConsoleMessage,
  type ConsoleMessageType,
  type ConsolePayload,
  consoleMessageSchema,
} from "./messages";
import { PROTOCOL_VERSION } from "./version";

export type DecodeResult<M> = { ok: true; message: M } | { ok: false; error: string };

let counter = 0;
/** Message ids only need to be unique per connection; no crypto here keeps the package isomorphic. */
export function nextMessageId(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${Date.now().toString(36)}-${counter.toString(36)}`;
}

function decode<M>(schema: z.ZodType<M>, raw: string): DecodeResult<M> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, error: "frame is not valid JSON" };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first?.path.length ? ` at ${first.path.join(".")}` : "";
    return { ok: false, error: `invalid message${where}: ${first?.message ?? "unknown"}` };
  }
  return { ok: true, message: parsed.data };
}

export const decodeAgentMessage = (raw: string) => decode<AgentMessage>(agentMessageSchema, raw);
export const decodeConsoleMessage = (raw: string) => decode<ConsoleMessage>(consoleMessageSchema, raw);

export function encodeAgentMessage<T extends AgentMessageType>(type: T, payload: AgentPayload<T>): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, type, id: nextMessageId(), payload });
}
export function encodeConsoleMessage<T extends ConsoleMessageType>(
  type: T,
  payload: ConsolePayload<T>,
): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, type, id: nextMessageId(), payload });
}
