import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ENGINE_FEATURES, type Support } from "../src/engine-support";

/*
 * docs/operations.md shows the capability table to operators. It is written by
 * hand from ENGINE_FEATURES, so this test keeps the two equal: a feature added,
 * removed or re-worded in engine-support.ts fails here until the doc's table
 * (between the engine-table markers) says the same. On failure the message holds
 * the rows the doc should have; `pnpm exec biome check --write docs/operations.md`
 * pads them.
 */

const DOC = new URL("../../../docs/operations.md", import.meta.url);
const START = "<!-- engine-table: generated from packages/protocol/src/engine-support.ts -->";
const END = "<!-- /engine-table -->";

function cell(s: Support): string {
  if (!s.supported) return `**no** — ${s.reason}`;
  return s.note ? `yes — ${s.note}` : "yes";
}

/** Markdown escapes a pipe inside a cell. */
const escapePipes = (s: string) => s.replaceAll("|", "\\|");

function expectedRows(): string[][] {
  return ENGINE_FEATURES.map((f) =>
    [f.label, cell(f.support.builtin), cell(f.support.haproxy)].map(escapePipes),
  );
}

/** The doc's rows as trimmed cells, header and separator left out. */
function docRows(): string[][] {
  const text = readFileSync(DOC, "utf8");
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  if (from < 0 || to < from) throw new Error(`docs/operations.md lacks the ${START} … ${END} markers`);
  const lines = text
    .slice(from + START.length, to)
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("|"));
  return lines.slice(2).map((l) =>
    l
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim()),
  );
}

describe("the engine table in docs/operations.md", () => {
  it("says what engine-support.ts says, row for row", () => {
    const want = expectedRows();
    const asMarkdown = [
      "| option | builtin | HAProxy |",
      "| --- | --- | --- |",
      ...want.map((r) => `| ${r.join(" | ")} |`),
    ].join("\n");
    expect(docRows(), `docs/operations.md's engine table should be:\n${asMarkdown}\n`).toEqual(want);
  });
});
