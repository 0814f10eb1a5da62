import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/*
 * A real gRPC server (grpc-js) with the standard health service, loaded from
 * the .proto by proto-loader: the other side of the agent's hand-encoded
 * Health/Check. Statuses per service name ("" = the whole server), changeable
 * while it runs; an unknown name answers NOT_FOUND, as the spec says.
 */

export type ServingStatus = "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";

export interface GrpcHealthServer {
  readonly port: number;
  readonly statuses: Map<string, ServingStatus>;
  /** Services asked about, in order. */
  readonly asked: string[];
  close(): Promise<void>;
}

const PROTO = fileURLToPath(new URL("./grpc-health.proto", import.meta.url));

export async function startGrpcHealthServer(
  opts: { tls?: { certPem: string; keyPem: string } } = {},
): Promise<GrpcHealthServer> {
  const def = protoLoader.loadSync(PROTO, { enums: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    grpc: { health: { v1: { Health: { service: grpc.ServiceDefinition } } } };
  };
  const statuses = new Map<string, ServingStatus>([["", "SERVING"]]);
  const asked: string[] = [];
  const server = new grpc.Server();
  server.addService(pkg.grpc.health.v1.Health.service, {
    Check(
      call: grpc.ServerUnaryCall<{ service: string }, unknown>,
      cb: grpc.sendUnaryData<{ status: ServingStatus }>,
    ) {
      asked.push(call.request.service);
      const status = statuses.get(call.request.service);
      if (status === undefined) cb({ code: grpc.status.NOT_FOUND, details: "unknown service" });
      else cb(null, { status });
    },
  });
  const creds = opts.tls
    ? grpc.ServerCredentials.createSsl(null, [
        { private_key: Buffer.from(opts.tls.keyPem), cert_chain: Buffer.from(opts.tls.certPem) },
      ])
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", creds, (e, p) => (e ? reject(e) : resolve(p))),
  );
  return {
    port,
    statuses,
    asked,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}
