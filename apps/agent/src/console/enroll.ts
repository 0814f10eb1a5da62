import { AGENT_ENROLL_PATH, type EnrollResponse, enrollResponseSchema } from "@fulcrum/protocol";
import { EnrollRejectedError, EnrollUnavailableError, errorMessage } from "../errors";
import { consoleEndpoint } from "./endpoints";

const ENROLL_TIMEOUT_MS = 15_000;

/**
 * Trades the one-time token for this agent's own credential. A 4xx means the
 * token itself is bad (rejected, fatal); anything else may pass (unavailable, retry).
 */
export async function enroll(consoleUrl: URL, token: string, name: string): Promise<EnrollResponse> {
  const url = consoleEndpoint(consoleUrl, AGENT_ENROLL_PATH);
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ token, name }),
      signal: AbortSignal.timeout(ENROLL_TIMEOUT_MS),
    });
  } catch (e) {
    throw new EnrollUnavailableError(
      `cannot reach ${url.href}: ${errorMessage((e as { cause?: unknown }).cause ?? e)}`,
      { cause: e },
    );
  }
  const text = await res.text().catch(() => "");
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
    throw new EnrollRejectedError(
      `the console refused the enrollment token (HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ""}); ` +
        "create a new token in the console and pass it with --token",
    );
  }
  if (!res.ok) throw new EnrollUnavailableError(`enrollment at ${url.href} answered HTTP ${res.status}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new EnrollUnavailableError(`enrollment at ${url.href} answered something that is not JSON`);
  }
  const parsed = enrollResponseSchema.safeParse(json);
  if (!parsed.success) {
    throw new EnrollUnavailableError(`enrollment response is malformed: ${parsed.error.issues[0]?.message}`);
  }
  return parsed.data;
}
