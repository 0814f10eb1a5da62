import type { ListenerSettings } from "@fulcrum/protocol";
import type { DataPlaneTimeouts } from "../../timeouts";
import type { AcmeTokens } from "../acme/challenge-answer";
import type { ListenerConfig } from "../listener-config";

/** The listener settings (packages/protocol listenerSettingsSchema) plus what the agent decides itself. */
export interface H1Options extends ListenerSettings {
  /** Pooled idle upstream sockets are closed after this; below common backend keep-alive (5 s in Node). */
  readonly upstreamKeepAliveMs: number;
  /** Idle upstream sockets kept per backend. */
  readonly maxIdlePerBackend: number;
  /** What X-Forwarded-Proto says: "https" on listeners that terminate TLS. */
  readonly proto: "http" | "https";
  /** Fields this listener adds to every proxied response (Strict-Transport-Security on TLS listeners). */
  readonly responseFields: ReadonlyArray<readonly [string, string]>;
  /** ACME HTTP-01 tokens this listener answers before routing (plain http listeners only). */
  readonly acmeTokens?: AcmeTokens;
}

export const DEFAULT_H1_OPTIONS: H1Options = Object.freeze({
  trustForwarded: false,
  maxConnections: 50_000,
  maxHeaderBytes: 16_384,
  maxBodyBytes: 0,
  minBodyBytesPerSecond: 240,
  timeouts: Object.freeze({
    connectMs: 5000,
    headMs: 10_000,
    idleMs: 60_000,
    responseMs: 60_000,
    keepAliveMs: 30_000,
    bodyMs: 60_000,
  }),
  upstreamKeepAliveMs: 4_000,
  maxIdlePerBackend: 256,
  proto: "http",
  responseFields: Object.freeze([]),
});

/** Options from the agent-wide data-plane timeouts, for listeners without their own settings. */
export function optionsFromTimeouts(
  t: DataPlaneTimeouts,
  over: Partial<Omit<ListenerSettings, "timeouts">> & {
    timeouts?: Partial<ListenerSettings["timeouts"]>;
  } = {},
): H1Options {
  return {
    ...DEFAULT_H1_OPTIONS,
    ...over,
    timeouts: {
      connectMs: t.upstreamConnectMs,
      headMs: t.clientHeadersMs,
      idleMs: t.idleMs,
      responseMs: t.upstreamResponseMs,
      keepAliveMs: t.clientKeepAliveMs,
      bodyMs: DEFAULT_H1_OPTIONS.timeouts.bodyMs,
      ...over.timeouts,
    },
    upstreamKeepAliveMs: t.upstreamKeepAliveMs,
  };
}

/** Options from a listener's compiled config (listener-config.ts), upstream pool settings from the engine. */
export function optionsFromConfig(c: ListenerConfig, engine: DataPlaneTimeouts): H1Options {
  return {
    trustForwarded: c.trustForwarded,
    maxConnections: c.maxConnections,
    maxHeaderBytes: c.maxHeaderBytes,
    maxBodyBytes: c.maxBodyBytes,
    minBodyBytesPerSecond: c.minBodyBytesPerSecond,
    redirectToHttps: c.redirectToHttps ?? null,
    acmeTokens: c.acmeTokens,
    timeouts: {
      connectMs: c.timeouts.connectMs,
      headMs: c.timeouts.headMs,
      idleMs: c.timeouts.idleMs,
      responseMs: c.timeouts.responseMs,
      keepAliveMs: c.timeouts.clientKeepAliveMs,
      bodyMs: c.timeouts.bodyMs,
    },
    upstreamKeepAliveMs: engine.upstreamKeepAliveMs,
    maxIdlePerBackend: DEFAULT_H1_OPTIONS.maxIdlePerBackend,
    proto: c.tls ? "https" : "http",
    responseFields: c.tls?.hsts
      ? [["Strict-Transport-Security", c.tls.hsts]]
      : DEFAULT_H1_OPTIONS.responseFields,
  };
}
