/**
 * One class per failure mode; `code` is stable so logs, NACK reasons and
 * tests can match on it without parsing messages.
 */
export abstract class AgentError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ConfigError extends AgentError {
  readonly code = "config_invalid";
}

export class SnapshotInvalidError extends AgentError {
  readonly code = "snapshot_invalid";
}

export class ListenerBindError extends AgentError {
  readonly code = "listener_bind_failed";
}

export class PolicyUnsupportedError extends AgentError {
  readonly code = "policy_unsupported";
}

export class StateStoreError extends AgentError {
  readonly code = "state_store_failed";
}

export class EnrollRejectedError extends AgentError {
  readonly code = "enroll_rejected";
}

export class EnrollUnavailableError extends AgentError {
  readonly code = "enroll_unavailable";
}

/** The console's TLS certificate failed verification (untrusted CA, wrong name, expired): retried with back-off. */
export class ConsoleCertUntrustedError extends AgentError {
  readonly code = "console_cert_untrusted";
}

/** The console told us to stop: our credential is not (or no longer) accepted. */
export class ConsoleRefusedError extends AgentError {
  readonly code = "console_refused";
  constructor(
    message: string,
    readonly closeCode: number,
  ) {
    super(message);
  }
}

export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));
export const errorCode = (e: unknown): string =>
  e instanceof AgentError ? e.code : ((e as { code?: unknown })?.code?.toString() ?? "internal");

/** A ticket-key ring that cannot be used (bad key length, or the engine refused it); the old ring stays. */
export class TicketKeysInvalidError extends AgentError {
  readonly code = "ticket_keys_invalid";
}

/**
 * A data-plane worker refused a snapshot (multi-worker builtin engine). Keeps
 * the worker's own error code and message, so the NACK reads as it would with
 * one worker, and whether the refusal may pass by itself (SnapshotRetry).
 */
export class WorkerApplyError extends AgentError {
  constructor(
    readonly code: string,
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

/** A data-plane worker exited or stopped answering in the middle of an apply. */
export class WorkerLostError extends AgentError {
  readonly code = "worker_lost";
  readonly transient = true;
}
