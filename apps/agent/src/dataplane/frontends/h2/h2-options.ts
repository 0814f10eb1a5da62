import type { ServerOptions } from "node:http2";
import type { ListenerHttp2 } from "@fulcrum/protocol";

/**
 * The HTTP/2 limits of one listener as node:http2 (nghttp2) options. Every
 * defence is set here explicitly, even where it equals Node's default, so a
 * Node upgrade that changes a default does not change ours; each has a test
 * in test/h2/ that fails without it.
 */
export function h2ServerOptions(s: ListenerHttp2): ServerOptions {
  return {
    settings: {
      // Beyond it nghttp2 answers a new stream with RST_STREAM REFUSED_STREAM.
      maxConcurrentStreams: s.maxConcurrentStreams,
      initialWindowSize: s.initialWindowBytes,
      // Advertised, and enforced by Node on the decoded list (HPACK bombs): the stream is reset.
      maxHeaderListSize: s.maxHeaderListBytes,
      enablePush: false,
      enableConnectProtocol: false,
    },
    // Decoded fields per header block; beyond it the stream is reset (ENHANCE_YOUR_CALM).
    maxHeaderListPairs: MAX_HEADER_PAIRS,
    // Refused streams (over maxConcurrentStreams) a client may cause before the session is closed.
    maxSessionRejectedStreams: MAX_REJECTED_STREAMS,
    // Malformed or unexpected frames a client may send before the session is closed.
    maxSessionInvalidFrames: MAX_INVALID_FRAMES,
    // Entries per SETTINGS frame.
    maxSettings: MAX_SETTINGS_ENTRIES,
    // Our own unanswered PINGs (we send none; bounded anyway).
    maxOutstandingPings: 10,
    // Memory nghttp2 may hold for one session (MB): queued frames that a client never reads
    // (PING/SETTINGS acks of a flood, responses to a zero window) count; beyond it the session ends.
    maxSessionMemory: MAX_SESSION_MEMORY_MB,
    // Header blocks we send are small; a backend's response fields are bounded by its head reader.
    maxSendHeaderBlockLength: 65_536,
    peerMaxConcurrentStreams: s.maxConcurrentStreams,
  };
}

/** HAProxy's tune.http.maxhdr (101); Node's default is 128. Pseudo-headers count. */
export const MAX_HEADER_PAIRS = 101;
/** Refusals only happen to a client that ignores or has not yet ACKed our SETTINGS; Node's default is 100. */
export const MAX_REJECTED_STREAMS = 50;
/** Node's default is 1,000. */
export const MAX_INVALID_FRAMES = 100;
/** HTTP/2 defines 7 settings; Node's default is 32. */
export const MAX_SETTINGS_ENTRIES = 16;
/**
 * Node's default, 10 MiB (it was 32, more than anything legitimate needs). What nghttp2 holds for a
 * session: the one header block being decoded (a block is contiguous on the connection, RFC 9113
 * §4.3, so one at a time: ≤ maxHeaderListBytes, 1 MiB at the schema's maximum), two HPACK tables
 * of 4 KiB, per-stream state (well under 1 KiB × ≤ 1,000 streams) and frames queued for the socket.
 * Request and response bodies are not in it (they live in the JS streams, bounded by the windows).
 * 10 MiB covers that several times over; at 32 MiB, a few hundred sessions each held near the
 * cap would pin gigabytes before the per-session limit fired.
 */
export const MAX_SESSION_MEMORY_MB = 10;
