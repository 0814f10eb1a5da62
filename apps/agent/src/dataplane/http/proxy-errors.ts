import { AgentError } from "../../errors";

/** Failures on the backend side; they map to 502/504 answers. */
export class UpstreamTimeoutError extends AgentError {
  readonly code: "upstream_connect_timeout" | "upstream_response_timeout" | "upstream_idle_timeout";
  constructor(phase: "connect" | "response" | "idle", ms: number) {
    super(`upstream ${phase} timed out after ${ms} ms`);
    this.code = `upstream_${phase}_timeout`;
  }
}
export class UpstreamProtocolError extends AgentError {
  readonly code = "upstream_failed";
}

/** The TLS handshake with a backend failed (verification, protocol); the message says which. */
export class UpstreamTlsError extends AgentError {
  readonly code = "upstream_tls_failed";
}

/** Failures on the client side; nobody is left to answer, so they are only logged (at debug). */
export class ClientAbortError extends AgentError {
  readonly code = "client_aborted";
}
