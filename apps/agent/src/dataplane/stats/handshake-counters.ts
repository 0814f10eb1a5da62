/**
 * TLS handshakes of one listener (issue 16), bumped by the TLS front end.
 * Kept per listener id across snapshots, like its TrafficCounters.
 */
export class HandshakeCounters {
  /** Completed handshakes, full and resumed. */
  handshakes = 0;
  /** Completed handshakes that resumed a session (a ticket), no certificate sent. */
  resumed = 0;
  /** Failed: client and listener share no cipher suite (or no signature algorithm for the certificate). */
  failedNoSharedCipher = 0;
  /** Failed: the client offers only versions below the listener's minimum (or none we speak). */
  failedProtocolVersion = 0;
  /** Failed: the SNI name matches no certificate and the listener rejects unknown names. */
  failedUnknownName = 0;
  /** Failed otherwise: a closed or reset connection, a handshake timeout, bytes that are not TLS. */
  failedOther = 0;

  toJSON(): HandshakeSnapshot {
    return {
      handshakes: this.handshakes,
      resumed: this.resumed,
      failures: {
        noSharedCipher: this.failedNoSharedCipher,
        protocolVersion: this.failedProtocolVersion,
        unknownName: this.failedUnknownName,
        other: this.failedOther,
      },
    };
  }
}

export interface HandshakeSnapshot {
  handshakes: number;
  resumed: number;
  failures: { noSharedCipher: number; protocolVersion: number; unknownName: number; other: number };
}
