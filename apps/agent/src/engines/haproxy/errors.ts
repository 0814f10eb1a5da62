import { AgentError } from "../../errors";

/** The snapshot uses something HAProxy cannot express exactly; the message lists what and why. */
export class EngineUnsupportedError extends AgentError {
  readonly code = "engine_unsupported";
}

/** `haproxy -c` refused the rendered configuration; the old one keeps serving. */
export class HaproxyConfigRejectedError extends AgentError {
  readonly code = "haproxy_config_rejected";
}

/** HAProxy did not start, reload or answer its runtime API. */
export class HaproxyRuntimeError extends AgentError {
  readonly code = "haproxy_failed";
}
