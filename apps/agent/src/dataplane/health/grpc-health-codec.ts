/*
 * The two messages of grpc.health.v1.Health/Check, encoded by hand (they have
 * one field each, so a protobuf library would be all weight):
 *   message HealthCheckRequest  { string service = 1; }
 *   message HealthCheckResponse { ServingStatus status = 1; }
 *   enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }
 * and the gRPC length-prefixed framing around them (1 byte compressed flag,
 * 4 bytes big-endian length).
 */

export const GRPC_HEALTH_CHECK_PATH = "/grpc.health.v1.Health/Check";
export const SERVING = 1;
export const SERVING_STATUS_NAMES: Readonly<Record<number, string>> = {
  0: "UNKNOWN",
  1: "SERVING",
  2: "NOT_SERVING",
  3: "SERVICE_UNKNOWN",
};

/** A response bigger than this is not a HealthCheckResponse (which is 2 bytes). */
export const MAX_HEALTH_RESPONSE_BYTES = 1024;

/** The request body: one gRPC frame holding HealthCheckRequest{service}. "" is left out, as proto3 does. */
export function encodeHealthCheckRequest(service: string): Buffer {
  const name = Buffer.from(service, "utf8");
  const field =
    name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.of(0x0a), varint(name.length), name]);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(field.length, 1);
  return Buffer.concat([head, field]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

export class GrpcHealthDecodeError extends Error {
  readonly code = "GRPC_HEALTH_MALFORMED";
}

/**
 * The ServingStatus of a response body (one gRPC frame). Unknown fields are
 * skipped, a missing status is UNKNOWN (proto3 default); anything cut short,
 * compressed or with trailing bytes throws GrpcHealthDecodeError.
 */
export function decodeHealthCheckResponse(body: Buffer): number {
  if (body.length < 5)
    throw new GrpcHealthDecodeError(`response has ${body.length} bytes, less than a gRPC frame`);
  if (body[0] !== 0) throw new GrpcHealthDecodeError("response is compressed (none was offered)");
  const len = body.readUInt32BE(1);
  if (body.length !== 5 + len) {
    throw new GrpcHealthDecodeError(`response frame says ${len} bytes, body has ${body.length - 5}`);
  }
  const msg = body.subarray(5);
  let status = 0;
  let i = 0;
  const readVarint = (): number => {
    let v = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (i >= msg.length) throw new GrpcHealthDecodeError("response message is cut inside a varint");
      const b = msg[i++]!;
      // Past 2^53 precision is lost; the values read here (tags, lengths, an enum) are small.
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return v;
    }
    throw new GrpcHealthDecodeError("response message has a varint longer than 10 bytes");
  };
  const skip = (n: number) => {
    if (i + n > msg.length) throw new GrpcHealthDecodeError("response message is cut inside a field");
    i += n;
  };
  while (i < msg.length) {
    const tag = readVarint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 0) {
      const v = readVarint();
      if (field === 1) status = v;
    } else if (wire === 1) skip(8);
    else if (wire === 2) skip(readVarint());
    else if (wire === 5) skip(4);
    else throw new GrpcHealthDecodeError(`response message has wire type ${wire}`);
  }
  return status;
}
