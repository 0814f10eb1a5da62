/**
 * WebSocket close codes of the agent connection, written once for both ends:
 * the console closes with them, the agent decides from them whether to
 * reconnect, wait or give up. A bad or revoked credential is refused earlier,
 * at the HTTP upgrade, with the status in `httpStatus` (a reconnect too soon
 * after a 4429 gets 429 and Retry-After); the agent reads those statuses as
 * the same codes.
 */

/**
 * What the agent does after a close: `reconnect` with the usual back-off
 * (transient: the console restarts, a newer connection replaced this one);
 * `back_off`: wait at least the rate-limit delay or the console's
 * Retry-After; `stop`: exit, since retrying cannot help until someone acts.
 */
export type AgentCloseReaction = "reconnect" | "back_off" | "stop";

export interface CloseCodeFacts {
  readonly code: number;
  /** What it means, in words the agent logs when it stops. */
  readonly meaning: string;
  readonly agent: AgentCloseReaction;
  /** The HTTP status that refuses the same thing at the upgrade, if any. */
  readonly httpStatus?: number;
}

export const CLOSE_CODES = {
  normal: { code: 1000, meaning: "closed normally", agent: "reconnect" },
  goingAway: {
    code: 1001,
    meaning: "the console is shutting down or a newer connection replaced this one",
    agent: "reconnect",
  },
  badHello: { code: 4400, meaning: "no valid hello within 10 s", agent: "reconnect" },
  unauthorized: {
    code: 4401,
    meaning: "the console does not accept this agent's credential",
    agent: "stop",
    httpStatus: 401,
  },
  revoked: { code: 4403, meaning: "the console has revoked this agent", agent: "stop", httpStatus: 403 },
  protocolUnsupported: {
    code: 4426,
    meaning: "the console does not speak this agent's protocol version; upgrade the agent",
    agent: "stop",
    httpStatus: 426,
  },
  /** The agent kept sending more than its limits allow; it must wait before reconnecting. */
  rateLimited: {
    code: 4429,
    meaning: "the agent sent more than the console allows (rate limited)",
    agent: "back_off",
    httpStatus: 429,
  },
} as const satisfies Record<string, CloseCodeFacts>;

export type CloseCodeName = keyof typeof CLOSE_CODES;

/** Name → code, e.g. `CloseCode.revoked` (4403). */
export const CloseCode = Object.fromEntries(
  Object.entries(CLOSE_CODES).map(([name, facts]) => [name, facts.code]),
) as { readonly [N in CloseCodeName]: (typeof CLOSE_CODES)[N]["code"] };

const byCode: ReadonlyMap<number, CloseCodeFacts> = new Map(
  Object.values(CLOSE_CODES).map((facts) => [facts.code, facts]),
);

/** The facts of a close code; undefined for codes outside the table (the agent reconnects with back-off). */
export function closeCodeFacts(code: number): CloseCodeFacts | undefined {
  return byCode.get(code);
}

/** The close code an HTTP refusal of the upgrade stands for (some consoles and proxies refuse before it). */
export function closeCodeForHttpStatus(status: number | undefined): number | undefined {
  if (status === undefined) return undefined;
  for (const facts of byCode.values()) if (facts.httpStatus === status) return facts.code;
  return undefined;
}
