/// <reference path="./parse-prometheus-text-format.d.ts" />
import { request } from "node:http";
import parsePrometheusTextFormat from "parse-prometheus-text-format";

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  type: string;
  help: string;
  samples: PromSample[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL_NAME = "[a-zA-Z_][a-zA-Z0-9_]*";
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const VALUE = "(?:[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?|NaN|[+-]Inf)";
const SAMPLE = new RegExp(
  `^(${NAME})(?:\\{((?:${LABEL_NAME}=${LABEL_VALUE})(?:,${LABEL_NAME}=${LABEL_VALUE})*)?,?\\})? (${VALUE})(?: -?\\d+)?$`,
);
const LABEL = new RegExp(`(${LABEL_NAME})=(${LABEL_VALUE})`, "g");
const HELP = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);

const unescapeValue = (v: string) =>
  v.slice(1, -1).replace(/\\(["\\n])/g, (_, c: string) => (c === "n" ? "\n" : c));

/**
 * A strict parser for the Prometheus text format 0.0.4, shared by the agent's
 * and the console's tests (`@fulcrum/agent/testing/prometheus`): every line is
 * a `# HELP`, a `# TYPE` or a sample; a family's HELP and TYPE come once and
 * before its samples, which are contiguous; counters end in `_total`;
 * histogram samples are `_bucket` (with `le`, cumulative, in increasing `le`
 * order, ending in `le="+Inf"` equal to `_count`), `_sum` and `_count`; no
 * series twice. Throws with the offending line.
 */
export function parsePrometheus(text: string): Map<string, PromFamily> {
  if (!text.endsWith("\n")) throw new Error("exposition must end with a line feed");
  const families = new Map<string, PromFamily>();
  const seen = new Set<string>();
  let current: PromFamily | undefined;
  const lines = text.slice(0, -1).split("\n");
  for (const [i, line] of lines.entries()) {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line.startsWith("#")) {
      const h = HELP.exec(line);
      const t = TYPE.exec(line);
      if (h) {
        const f = families.get(h[1]!);
        if (f?.help) throw new Error(`second HELP for ${h[1]} at ${where}`);
        if (f && f.samples.length > 0) throw new Error(`HELP after samples at ${where}`);
        if (f) f.help = h[2]!;
        else families.set(h[1]!, { name: h[1]!, type: "", help: h[2]!, samples: [] });
        current = families.get(h[1]!);
      } else if (t) {
        const f = families.get(t[1]!) ?? { name: t[1]!, type: "", help: "", samples: [] };
        if (f.type) throw new Error(`second TYPE for ${t[1]} at ${where}`);
        if (f.samples.length > 0) throw new Error(`TYPE after samples at ${where}`);
        f.type = t[2]!;
        families.set(t[1]!, f);
        current = f;
      } else throw new Error(`bad comment at ${where}`);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample: ${where}`);
    const name = m[1]!;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(LABEL)) {
      if (l[1]! in labels) throw new Error(`label ${l[1]} twice at ${where}`);
      labels[l[1]!] = unescapeValue(l[2]!);
    }
    const raw = m[3]!;
    const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw);
    let family = families.get(name);
    if (!family) {
      const base = name.replace(/_(bucket|sum|count)$/, "");
      const f = families.get(base);
      if (f && (f.type === "histogram" || f.type === "summary")) family = f;
    }
    if (!family?.type) throw new Error(`sample without a TYPE: ${where}`);
    if (family !== current) throw new Error(`samples of ${family.name} are not contiguous at ${where}`);
    if (family.type === "histogram") {
      const suffix = name.slice(family.name.length);
      if (!["_bucket", "_sum", "_count"].includes(suffix)) throw new Error(`bad histogram sample: ${where}`);
      if (suffix === "_bucket" && labels.le === undefined) throw new Error(`bucket without le: ${where}`);
    }
    const id = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(id)) throw new Error(`duplicate series at ${where}`);
    seen.add(id);
    family.samples.push({ name, labels, value });
  }
  for (const f of families.values()) {
    if (!f.type) throw new Error(`${f.name}: HELP without a TYPE`);
    if (f.type === "counter" && !f.name.endsWith("_total"))
      throw new Error(`${f.name}: counter without _total`);
    if (f.type === "histogram") checkHistogram(f);
  }
  // A second opinion: the npm parser must read the same families (it throws on malformed input).
  const independent = new Set(parsePrometheusTextFormat(text).map((f) => f.name));
  const ours = new Set(families.keys());
  if (independent.size !== ours.size || [...ours].some((n) => !independent.has(n))) {
    throw new Error(`parse-prometheus-text-format read other families: ${[...independent].join(", ")}`);
  }
  return families;
}

/** Each histogram series: buckets cumulative in increasing `le`, ending in +Inf equal to `_count`, and a `_sum`. */
function checkHistogram(f: PromFamily): void {
  const groups = new Map<string, PromSample[]>();
  for (const s of f.samples) {
    const { le: _le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const [key, samples] of groups) {
    const buckets = samples.filter((s) => s.name === `${f.name}_bucket`);
    const count = samples.find((s) => s.name === `${f.name}_count`);
    const sum = samples.find((s) => s.name === `${f.name}_sum`);
    if (!count || !sum || buckets.length === 0) throw new Error(`${f.name}${key}: incomplete histogram`);
    let prevLe = Number.NEGATIVE_INFINITY;
    let prev = 0;
    for (const b of buckets) {
      const le = b.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(b.labels.le);
      if (Number.isNaN(le) || le <= prevLe)
        throw new Error(`${f.name}${key}: buckets not in increasing le order`);
      if (b.value < prev) throw new Error(`${f.name}${key}: buckets not cumulative`);
      prevLe = le;
      prev = b.value;
    }
    if (prevLe !== Number.POSITIVE_INFINITY) throw new Error(`${f.name}${key}: no +Inf bucket`);
    if (prev !== count.value) throw new Error(`${f.name}${key}: +Inf bucket differs from _count`);
  }
}

/** Samples of `name` whose labels include all of `match`. */
export function samples(
  families: Map<string, PromFamily>,
  name: string,
  match: Record<string, string> = {},
): PromSample[] {
  const out: PromSample[] = [];
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) out.push(s);
    }
  }
  return out;
}

export function scrape(
  port: number,
  host = "127.0.0.1",
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: "/metrics", agent: false, timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }),
      );
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("scrape timed out")));
    req.end();
  });
}
