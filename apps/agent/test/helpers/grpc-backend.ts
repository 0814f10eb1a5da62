import {
  type Client,
  credentials,
  Metadata,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  status,
} from "@grpc/grpc-js";

/*
 * A gRPC test service with all four call kinds, JSON-encoded messages (no
 * .proto needed: grpc-js takes any serializer), served by real
 * @grpc/grpc-js servers and called by real @grpc/grpc-js clients.
 */

export interface Msg {
  text: string;
  /** Unary: answer after this many ms. Server streaming: messages to send. */
  n?: number;
}

const json = {
  serialize: (v: Msg) => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer) => JSON.parse(b.toString()) as Msg,
};
const method = (name: string, requestStream: boolean, responseStream: boolean) => ({
  path: `/fulcrum.test.Echo/${name}`,
  requestStream,
  responseStream,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: json.deserialize,
  originalName: name,
});

export const ECHO_SERVICE = {
  unary: method("Unary", false, false),
  collect: method("Collect", true, false),
  count: method("Count", false, true),
  chat: method("Chat", true, true),
} as const satisfies ServiceDefinition;

/** Every response carries trailing metadata `x-backend: name`. */
function trailer(name: string): Metadata {
  const m = new Metadata();
  m.set("x-backend", name);
  return m;
}

export interface GrpcBackend {
  readonly name: string;
  readonly port: number;
  /** Calls started on it. */
  readonly calls: number;
  /** Kills it at once: open calls are cut, the port refuses. */
  kill(): void;
  close(): Promise<void>;
}

export async function startGrpcBackend(name: string): Promise<GrpcBackend> {
  const server = new Server();
  let calls = 0;
  server.addService(ECHO_SERVICE, {
    unary(call: ServerUnaryCall<Msg, Msg>, cb: (e: null, r: Msg, t: Metadata) => void) {
      calls++;
      const reply = () => cb(null, { text: `${name}:${call.request.text}` }, trailer(name));
      if (call.request.n) setTimeout(reply, call.request.n);
      else reply();
    },
    collect(call: ServerReadableStream<Msg, Msg>, cb: (e: null, r: Msg, t: Metadata) => void) {
      calls++;
      const parts: string[] = [];
      call.on("data", (m: Msg) => parts.push(m.text));
      call.on("end", () => cb(null, { text: `${name}:${parts.join(",")}` }, trailer(name)));
    },
    count(call: ServerWritableStream<Msg, Msg>) {
      calls++;
      const n = call.request.n ?? 3;
      let i = 0;
      const tick = setInterval(() => {
        if (call.cancelled) return clearInterval(tick);
        call.write({ text: `${name}:${i}` });
        if (++i === n) {
          clearInterval(tick);
          call.end(trailer(name));
        }
      }, 10);
    },
    chat(call: ServerDuplexStream<Msg, Msg>) {
      calls++;
      call.on("data", (m: Msg) => call.write({ text: `${name}:${m.text}` }));
      call.on("end", () => call.end(trailer(name)));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return {
    name,
    port,
    get calls() {
      return calls;
    },
    kill: () => server.forceShutdown(),
    close: () =>
      new Promise<void>((r) => {
        server.forceShutdown();
        r();
      }),
  };
}

export type EchoClient = Client & Record<keyof typeof ECHO_SERVICE, (...args: unknown[]) => unknown>;

const EchoClientCtor = makeGenericClientConstructor(ECHO_SERVICE, "Echo");

/** A client over one HTTP/2 connection (h2c) to `port`, `authority` as :authority. */
export function echoClient(port: number, authority?: string): EchoClient {
  return new EchoClientCtor(
    `127.0.0.1:${port}`,
    credentials.createInsecure(),
    authority ? { "grpc.default_authority": authority } : {},
  ) as unknown as EchoClient;
}

export interface CallResult<T> {
  code: number;
  details: string;
  value: T | undefined;
  trailers: Record<string, unknown>;
}

/** A unary call, resolved with its status and trailers (never rejected). */
export function unary(c: EchoClient, msg: Msg, deadlineMs = 10_000): Promise<CallResult<Msg>> {
  return new Promise((resolve) => {
    let value: Msg | undefined;
    const call = (c.unary as (...a: unknown[]) => { on(e: string, f: (s: StatusObject) => void): void })(
      msg,
      new Metadata(),
      { deadline: Date.now() + deadlineMs },
      (_e: unknown, r: Msg | undefined) => {
        value = r;
      },
    );
    // grpc-js calls back first, then emits the status with the trailers.
    call.on("status", (s) =>
      resolve({ code: s.code, details: s.details, value, trailers: s.metadata.getMap() }),
    );
  });
}

interface StatusObject {
  code: number;
  details: string;
  metadata: Metadata;
}

export { status as grpcStatus };
