import { ecsError } from "../errors.js";
import type { Params } from "../protocol.js";

export interface Page<T> {
  items: T[];
  totalCount: number;
  pageSize: number;
  pageNumber: number;
  nextToken: string;
}

function encodeToken(offset: number): string {
  return Buffer.from(`emu:${offset}`).toString("base64url");
}

function decodeToken(token: string): number {
  const m = /^emu:(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8"));
  if (!m) throw ecsError("InvalidParameter", "NextToken");
  return Number(m[1]);
}

/**
 * `MaxResults` + `NextToken` paging (unset or below `min` means `min`), falling back to the
 * deprecated `PageNumber`/`PageSize` when neither is given.
 */
export interface PageLimits {
  min: number;
  max: number;
  /**
   * `MaxResults` above `max`: "clamp" to `max` where the API metadata says so (DescribeInstances: "If
   * you set this parameter to a value greater than 100, the default value is 100"), else "reject"
   * with `InvalidParameter` (the metadata only gives a maximum).
   */
  overMax: "clamp" | "reject";
}

export function paginate<T>(all: T[], params: Params, opts: PageLimits): Page<T> {
  let maxResults = params.int("MaxResults");
  const token = params.str("NextToken");
  if (maxResults !== undefined || (token !== undefined && token !== "")) {
    if (maxResults !== undefined && maxResults > opts.max) {
      if (opts.overMax === "reject") throw ecsError("InvalidParameter", "MaxResults");
      maxResults = opts.max;
    }
    const size = maxResults === undefined || maxResults < opts.min ? opts.min : maxResults;
    const offset = token ? decodeToken(token) : 0;
    const items = all.slice(offset, offset + size);
    const next = offset + size < all.length ? encodeToken(offset + size) : "";
    return { items, totalCount: all.length, pageSize: size, pageNumber: 1, nextToken: next };
  }
  const pageSize = params.int("PageSize") ?? opts.min;
  const pageNumber = params.int("PageNumber") ?? 1;
  if (pageSize < 1 || pageSize > opts.max || pageNumber < 1) throw ecsError("InvalidParameter", "PageSize");
  const offset = (pageNumber - 1) * pageSize;
  return {
    items: all.slice(offset, offset + pageSize),
    totalCount: all.length,
    pageSize,
    pageNumber,
    nextToken: "",
  };
}

/** ECS-style name filter: `*` is a wildcard, otherwise an exact match. */
export function wildcardMatch(pattern: string, value: string): boolean {
  if (!pattern.includes("*")) return pattern === value;
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return re.test(value);
}
