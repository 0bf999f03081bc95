/**
 * Instance tags: the `Tag.N.Key` / `Tag.N.Value` request filter and the admin operations that set and
 * remove tags. A tag key is unique per resource (a second value for a key replaces the first), as
 * TagResources documents ("If the key of the specified tag is the same as that of an existing tag, the
 * specified tag overwrites the existing tag"); docs/emulator.md "Tags".
 */
import { ecsError } from "./errors.js";
import type { Params } from "./protocol.js";

export interface Tag {
  key: string;
  value: string;
}

/** A filter term: `value` undefined matches any value of the key. */
export interface TagFilter {
  key: string;
  value: string | undefined;
}

/** `Tag.N` in a request: N is 1..20 (DescribeInstances: "Valid values of N: 1 to 20"). */
export const MAX_TAG_FILTERS = 20;

/**
 * The `Tag.N.*` filter of a Describe request. An N outside 1..20 is `InvalidParameter` naming the
 * parameter (the real code for that case is not documented; the emulator's choice).
 */
export function tagFilters(params: Params): TagFilter[] {
  for (const [name] of params.entries()) {
    const m = /^Tag\.(\d+)\.(Key|Value)$/.exec(name);
    if (!m) continue;
    const n = Number(m[1]);
    if (n < 1 || n > MAX_TAG_FILTERS) throw ecsError("InvalidParameter", name);
  }
  return params.tags("Tag");
}

/** True when the tags carry every filter term (all terms must match, as ECS combines them). */
export function matchesTags(tags: readonly Tag[], filters: readonly TagFilter[]): boolean {
  return filters.every((f) => tags.some((t) => t.key === f.key && (f.value === undefined || t.value === f.value)));
}

/** Tags as a key → value map (admin representation; keys are unique per resource). */
export function tagMap(tags: readonly Tag[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags) out[t.key] = t.value;
  return out;
}

/** A key → value map back to the stored list, in the map's order. */
export function tagList(map: Readonly<Record<string, string>>): Tag[] {
  return Object.entries(map).map(([key, value]) => ({ key, value }));
}

/** Stored tags with one entry per key: a later entry for a key replaces an earlier one. */
export function uniqueTags(tags: readonly Tag[]): Tag[] {
  return tagList(tagMap(tags));
}

/**
 * JSON merge patch (RFC 7396) of a tag map: a string sets the key, `null` removes it. Returns the new
 * list; keys keep their position, new keys go last.
 */
export function mergeTags(tags: readonly Tag[], patch: Readonly<Record<string, string | null>>): Tag[] {
  const map = tagMap(tags);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete map[key];
    else map[key] = value;
  }
  return tagList(map);
}
