import type { SecureContext } from "node:tls";

/**
 * Which certificate a handshake gets, by the client's SNI name: an exact
 * name first, then a wildcard covering exactly one label (`*.example.com`
 * matches `a.example.com`, not `example.com` nor `a.b.example.com`), then the
 * listener's default certificate, or none (the handshake fails) when the
 * listener rejects unknown names. Immutable: a new snapshot builds a new table
 * and the listener swaps the reference, so a handshake in progress keeps the
 * table it started with.
 */
export class SniTable {
  private readonly exact = new Map<string, SecureContext>();
  private readonly wildcard = new Map<string, SecureContext>();

  /** `certificates` in the listener's order: the first certificate naming a name serves it. */
  constructor(
    certificates: ReadonlyArray<{ readonly names: readonly string[]; readonly context: SecureContext }>,
    readonly defaultContext: SecureContext,
    readonly rejectUnknown: boolean,
  ) {
    for (const c of certificates) {
      for (const name of c.names) {
        if (name.startsWith("*.")) {
          const suffix = name.slice(1); // ".example.com"
          if (!this.wildcard.has(suffix)) this.wildcard.set(suffix, c.context);
        } else if (!this.exact.has(name)) this.exact.set(name, c.context);
      }
    }
  }

  /** The context for `servername` (as the client sent it), or undefined: refuse the handshake. */
  select(servername: string | undefined): SecureContext | undefined {
    if (servername) {
      let name = servername.toLowerCase();
      if (name.endsWith(".")) name = name.slice(0, -1);
      const exact = this.exact.get(name);
      if (exact !== undefined) return exact;
      const dot = name.indexOf(".");
      if (dot > 0) {
        const wild = this.wildcard.get(name.slice(dot));
        if (wild !== undefined) return wild;
      }
    }
    return this.rejectUnknown ? undefined : this.defaultContext;
  }
}
