/**
 * WebSocket close codes the gateway uses after the handshake. A bad or revoked
 * credential is refused earlier, at the HTTP upgrade, with status 401; a
 * reconnect too soon after a 4429 is refused there with 429 and Retry-After.
 * Kept in step with apps/agent/src/console/close-codes.ts.
 */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  badHello: 4400,
  unauthorized: 4401,
  revoked: 4403,
  protocolUnsupported: 4426,
  /** The agent kept sending more than its limits allow; it must wait before reconnecting. */
  rateLimited: 4429,
} as const;
