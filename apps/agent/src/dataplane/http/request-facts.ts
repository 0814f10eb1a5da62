import type { RequestFacts } from "../exchange";

/** A node:http or node:http2 compatibility request: both keep their fields by lower-case name. */
interface WithHeaders {
  readonly headers: { readonly [name: string]: string | string[] | undefined };
}

/** RequestFacts over a node:http (or HTTP/2 compatibility) request; cookies are parsed on first use only. */
export class NodeRequestFacts implements RequestFacts {
  private cookies: Map<string, string> | undefined;

  constructor(
    private readonly req: WithHeaders,
    readonly method: string,
    readonly path: string,
    readonly host: string,
    readonly clientIp: string,
  ) {}

  header(name: string): string | undefined {
    const v = this.req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  }

  cookie(name: string): string | undefined {
    if (!this.cookies) this.cookies = parseCookies(cookieField(this.req.headers.cookie));
    return this.cookies.get(name);
  }
}

/** RequestFacts of a TCP connection: only the client address. */
export class TcpRequestFacts implements RequestFacts {
  readonly method = "";
  readonly path = "";
  readonly host = "";
  constructor(readonly clientIp: string) {}
  header(): undefined {
    return undefined;
  }
  cookie(): undefined {
    return undefined;
  }
}

/** "a=1; b=2" → {a: "1", b: "2"}; the first occurrence of a name wins. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    if (!name || out.has(name)) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    out.set(name, value);
  }
  return out;
}

/** HTTP/2 may send cookies as separate fields (RFC 9113 §8.2.3); read as one list. */
const cookieField = (v: string | string[] | undefined): string | undefined =>
  Array.isArray(v) ? v.join("; ") : v;
