import type { RequestFacts } from "../exchange";
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
    const { lower, raw } = this.head;
    for (let i = 0; i < lower.length; i++) if (lower[i] === name) return raw[2 * i + 1];
    return undefined;
  }

  cookie(name: string): string | undefined {
    const { lower, raw } = this.head;
    for (let i = 0; i < lower.length; i++) {
      if (lower[i] !== "cookie") continue;
      for (const pair of raw[2 * i + 1]!.split(";")) {
        const eq = pair.indexOf("=");
        if (eq !== -1 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
      }
    }
    return undefined;
  }
}
