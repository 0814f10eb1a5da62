import type { CompiledRoute } from "../../pools/route-table";

/** "WWW.Example.COM." → "www.example.com". */
export const canonicalName = (name: string): string => {
  const n = name.toLowerCase();
  return n.endsWith(".") ? n.slice(0, -1) : n;
};

/**
 * The names a dns listener answers for: its routes' hosts, exact or
 * "*.suffix". An exact name wins over a wildcard; among wildcards the longest
 * suffix wins; a wildcard covers any depth below its suffix but not the
 * suffix itself (as in RFC 4592).
 */
export class DnsNameIndex {
  private readonly exact = new Map<string, CompiledRoute>();
  /** Longest suffix first; each suffix starts with ".". */
  private readonly wildcards: Array<{ suffix: string; route: CompiledRoute }> = [];

  constructor(routes: readonly CompiledRoute[]) {
    // Routes come in match order (priority first): the first route for a name wins.
    for (const r of routes) {
      const host = canonicalName(r.host);
      if (host === "") continue;
      if (host.startsWith("*.")) {
        const suffix = host.slice(1);
        if (!this.wildcards.some((w) => w.suffix === suffix)) this.wildcards.push({ suffix, route: r });
      } else if (!this.exact.has(host)) this.exact.set(host, r);
    }
    this.wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
  }

  lookup(name: string): CompiledRoute | undefined {
    const exact = this.exact.get(name);
    if (exact) return exact;
    for (const w of this.wildcards) if (name.endsWith(w.suffix)) return w.route;
    return undefined;
  }

  /**
   * Whether we are the authority for `name` although no route serves it: it
   * is a served name's descendant or a wildcard's base. Then NXDOMAIN is
   * the truth; any other name is none of our business (REFUSED).
   */
  covers(name: string): boolean {
    for (const host of this.exact.keys()) if (name.endsWith(`.${host}`)) return true;
    for (const w of this.wildcards) if (name === w.suffix.slice(1) || name.endsWith(w.suffix)) return true;
    return false;
  }
}
