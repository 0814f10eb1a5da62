/** Joins a console base URL (which may carry a path prefix) with a protocol path. */
export function consoleEndpoint(base: URL, path: string, websocket = false): URL {
  const url = new URL(base.href);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}${path}`;
  url.search = "";
  url.hash = "";
  if (websocket) url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url;
}
