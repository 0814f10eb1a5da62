/**
 * WebSocket close codes the gateway uses after the handshake. A bad or revoked
 * credential is refused earlier, at the HTTP upgrade, with status 401.
 */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  badHello: 4400,
  unauthorized: 4401,
  revoked: 4403,
  protocolUnsupported: 4426,
} as const;
