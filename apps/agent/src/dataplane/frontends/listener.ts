import cluster from "node:cluster";
import type { AddressInfo, Server } from "node:net";
import type { ListenerProtocol } from "@fulcrum/protocol";
import type { RouteTable } from "../pools/route-table";
import type { ListenerConfig } from "./listener-config";

/** A bound server socket whose routing can be swapped without re-binding. */
export interface Listener {
  readonly protocol: ListenerProtocol;
  readonly bindAddress: string;
  readonly port: number;
  /** Unique per server-socket bind; unchanged across a hitless reload. */
  readonly bindId: number;
  /** The table carries the listener's compiled settings too (`table.config`). */
  setTable(table: RouteTable): void;
  /**
   * Optional: applies changed client-side settings (header timeout, limits)
   * to a kept listener. Listeners without it keep the settings they were
   * created with until re-created.
   */
  setConfig?(config: ListenerConfig): void;
  /** Optional: false when this config needs other sockets (a dns listener's transport), so it is re-created. */
  accepts?(config: ListenerConfig): boolean;
  address(): AddressInfo;
  bind(): Promise<void>;
  /** Stops accepting now; open connections get `graceMs` to finish. */
  close(graceMs: number): Promise<void>;
}

export const bindKey = (bindAddress: string, port: number) =>
  bindAddress.includes(":") ? `[${bindAddress}]:${port}` : `${bindAddress}:${port}`;

/**
 * Accept queue length asked of the kernel (capped there by net.core.somaxconn).
 * Node's default is 511: 1,000 clients connecting at once overflow it, and a
 * connection whose handshake ACK was dropped waits a SYN-ACK retransmission
 * (1 s, then 2 s) before its first request is read. nginx and HAProxy are
 * configured with 4096 in the benchmarks.
 */
export const LISTEN_BACKLOG = 4096;

/**
 * In a data-plane worker (--workers N, workers/) a bind asks the control
 * process, which binds the address once and shares the listening handle with
 * every worker (cluster's shared handles); alone, the process binds it itself.
 */
export const EXCLUSIVE_BIND = !cluster.isWorker;

/** listen() as a promise that rejects with the bind error (EADDRINUSE, EACCES, ...). */
export function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => {
      server.off("listening", onListening);
      reject(e);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen({ host, port, exclusive: EXCLUSIVE_BIND, backlog: LISTEN_BACKLOG });
  });
}

/** Resolves once every connection is gone; forces them closed after the grace period. */
export function closeServer(server: Server, graceMs: number, forceClose: () => void): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const force = setTimeout(forceClose, graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

let bindSeq = 0;
export const nextBindId = () => ++bindSeq;
