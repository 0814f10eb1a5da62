import { AGENT_ENROLL_PATH, type EnrollResponse, enrollResponseSchema } from "@fulcrum/protocol";
import {
  ConsoleCertUntrustedError,
  EnrollRejectedError,
  EnrollUnavailableError,
  errorMessage,
} from "../errors";
import { type ConsoleTls, consoleCertProblem } from "./console-tls";
import { consoleEndpoint } from "./endpoints";
import { postJson } from "./post-json";

const ENROLL_TIMEOUT_MS = 15_000;

/**
 * Trades the one-time token for this agent's own credential. A 4xx means the
 * token itself is bad (rejected, fatal); anything else may pass (unavailable, retry).
 */
export async function enroll(
  consoleUrl: URL,
  token: string,
  name: string,
  tls: ConsoleTls,
): Promise<EnrollResponse> {
  const url = consoleEndpoint(consoleUrl, AGENT_ENROLL_PATH);
  let res: { status: number; text: string };
  try {
    res = await postJson(url, { token, name }, tls, ENROLL_TIMEOUT_MS);
  } catch (e) {
    const untrusted = consoleCertProblem(e, tls);
    if (untrusted) throw new ConsoleCertUntrustedError(`${url.href}: ${untrusted}`, { cause: e });
    throw new EnrollUnavailableError(`cannot reach ${url.href}: ${errorMessage(e)}`, { cause: e });
  }
  const { text } = res;
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
    throw new EnrollRejectedError(
      `the console refused the enrollment token (HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ""}); ` +
        "create a new token in the console and pass it with --token",
    );
  }
  if (res.status < 200 || res.status > 299) {
    const hint =
      res.status >= 300 && res.status < 400 ? " (a redirect: give --console the URL it points to)" : "";
    throw new EnrollUnavailableError(`enrollment at ${url.href} answered HTTP ${res.status}${hint}`);
  }
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
