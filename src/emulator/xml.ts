/**
 * XML responses for clients that ask for them (`Format=XML`, and V1 requests without `Format`,
 * whose documented default is XML). Arrays repeat their key: `{Instances:{Instance:[a,b]}}` →
 * `<Instances><Instance>a</Instance><Instance>b</Instance></Instances>`, as ECS does.
 */

function escape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]!);
}

function element(name: string, value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => element(name, v)).join("");
  if (value !== null && typeof value === "object") {
    const inner = Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => element(k, v))
      .join("");
    return `<${name}>${inner}</${name}>`;
  }
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    return `<${name}>${escape(String(value))}</${name}>`;
  }
  return `<${name}></${name}>`;
}

/** `root` is `<Action>Response` for successes and `Error` for errors. */
export function toXml(root: string, body: Record<string, unknown>): string {
  return `<?xml version='1.0' encoding='UTF-8'?>${element(root, body)}`;
}
