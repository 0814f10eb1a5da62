/**
 * The states of a client connection (ClientConn), of its current response and
 * the kinds of deadline it waits on. Small integers rather than strings: every
 * check on the hot path is an integer compare. Shared by the files that drive
 * one exchange (client-request, backend-attempt, request-body,
 * upstream-response, local-answers), which is why they are not in connection.ts.
 */

// Client connection states. One exchange at a time: a pipelined request waits
// in `pending` until the response before it is complete.
export const S_HEAD = 0; // reading a request head
export const S_ACQUIRE = 1; // waiting for the pool
export const S_CONNECT = 2; // waiting for the upstream TCP connect
export const S_BODY = 3; // streaming the request body
export const S_WAIT = 4; // request sent; reading/streaming the response
export const S_TUNNEL = 5; // after a 101: bytes both ways
export const S_CLOSED = 6;
export const S_BRIDGED = 7; // handed to the node:http front end (h2-bridge.ts): bytes both ways

// Response states.
export const R_HEAD = 0;
export const R_BODY = 1;
export const R_DONE = 2;

// Deadlines: checked by the listener's ticker instead of one timer per phase,
// which would cost a Timeout allocation and a timer-list insert per request.
export const D_NONE = 0;
export const D_KEEPALIVE = 1;
export const D_HEAD = 2;
export const D_CONNECT = 3;
export const D_RESPONSE = 4;
/** Streaming a request body: checks the pause since the last read (bodyMs) and the minimum rate. */
export const D_BODY = 5;
