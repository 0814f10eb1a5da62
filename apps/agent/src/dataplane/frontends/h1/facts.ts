import type { RequestFacts } from "../../exchange";
import { F_COOKIE } from "./header-lines";
import type { RequestHead } from "./request-head";

/** RequestFacts read lazily from the parsed head: most policies look at no header at all. */
export class H1Facts implements RequestFacts {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly host: string,
    readonly clientIp: string,
    private readonly head: RequestHead,
  ) {}

  header(name: string): string | undefined {
    return this.head.fields.find(name);
  }

  cookie(name: string): string | undefined {
    const f = this.head.fields;
    for (let i = 0; i < f.count; i++) {
      if (f.codes[i] !== F_COOKIE) continue;
      for (const pair of f.value(i).split(";")) {
        const eq = pair.indexOf("=");
        if (eq !== -1 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
      }
    }
    return undefined;
  }
}
