/**
 * HAProxy proxy and server names for snapshot ids. Ids are kept readable
 * (anything outside [A-Za-z0-9_.-] becomes "_") so `show stat` maps back.
 */
const clean = (id: string) => id.replace(/[^A-Za-z0-9_.-]/g, "_");

export const frontendName = (listenerId: string) => `l_${clean(listenerId)}`;
export const backendName = (poolId: string) => `p_${clean(poolId)}`;
export const serverName = (backendId: string) => `b_${clean(backendId)}`;
export const routeVar = (routeId: string) => `r_${clean(routeId)}`;

/** A config string argument: single quotes when possible (no escapes, no $ expansion). */
export function quote(s: string): string {
  if (!s.includes("'")) return `'${s}'`;
  return `"${s.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}

/** "::1" → "[::1]", for bind lines and server addresses. */
export const hostPort = (address: string, port: number) =>
  address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
