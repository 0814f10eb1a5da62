// Cross-process notifications over PostgreSQL LISTEN/NOTIFY, so several console
// processes on one database hear each other's committed changes. Embedded PGlite
// is single-process by nature: its listener never fires from another process,
// and callers keep their in-process fast path either way.
import pg from "pg";
import type { Database } from "./client";

export interface NotificationListener {
  close(): Promise<void>;
}

const RETRY_MS = 1000;

/**
 * Calls `onPayload` for every NOTIFY on `channel`. On PostgreSQL a dedicated
 * connection LISTENs and reconnects after a failure (a notification sent while
 * it is down is lost; callers resynchronize on `onReconnect`). On PGlite it
 * listens on the instance itself.
 */
export async function listenForNotifications(
  db: Database,
  channel: string,
  onPayload: (payload: string) => void,
  hooks: { onReconnect?: () => void; onError?: (error: Error) => void } = {},
): Promise<NotificationListener> {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name: ${channel}`);
  if (db.driver.kind === "pglite") {
    const unlisten = await db.driver.pglite.listen(channel, onPayload);
    return { close: () => unlisten() };
  }
  const url = db.config.kind === "postgres" ? db.config.url : "";
  let closed = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (isReconnect: boolean): Promise<void> => {
    const c = new pg.Client({ connectionString: url });
    c.on("error", (error) => {
      hooks.onError?.(error);
      scheduleReconnect();
    });
    c.on("notification", (n) => {
      if (n.channel === channel && n.payload !== undefined) onPayload(n.payload);
    });
    await c.connect();
    await c.query(`LISTEN ${channel}`);
    client = c;
    if (isReconnect) hooks.onReconnect?.();
  };
  const scheduleReconnect = () => {
    const dead = client;
    client = undefined;
    dead?.end().catch(() => {});
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect(true).catch((error: Error) => {
        hooks.onError?.(error);
        scheduleReconnect();
      });
    }, RETRY_MS);
    retry.unref();
  };

  await connect(false);
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      await client?.end().catch(() => {});
    },
  };
}
