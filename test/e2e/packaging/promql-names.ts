/**
 * The metric names a PromQL expression reads, for checking that dashboards and alerts query only
 * series the controller exposes. A small lexer, not a full parser: it drops what cannot hold a
 * metric name (strings, label matchers, ranges, grouping label lists) and keeps the identifiers
 * that are neither functions, aggregations nor keywords. monitoring.test.ts checks it on known input.
 */

const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
  "atan2",
  "inf",
  "nan",
  "Inf",
  "NaN",
  "start",
  "end",
]);

export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.$])[A-Za-z_:][\w:]*(?!\s*\()/g)) {
    // An identifier directly followed by "(" is a function or aggregation (excluded by the lookahead);
    // the lookahead cannot stop a backtrack to a shorter prefix, so re-check the full token here.
    const token = m[0];
    const rest = stripped.slice(m.index + token.length);
    if (/^[\w:]/.test(rest) || KEYWORDS.has(token)) continue;
    names.add(token);
  }
  return [...names].sort();
}

/** Series names a text exposition serves: histograms and summaries as their _bucket/_sum/_count series. */
export function exposedNames(exposition: string): Set<string> {
  const out = new Set<string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    out.add(name);
    if (type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) out.add(name + s);
    if (type === "summary") for (const s of ["_sum", "_count"]) out.add(name + s);
  }
  return out;
}
