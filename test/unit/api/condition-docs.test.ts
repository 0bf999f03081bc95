/**
 * docs/api.md's condition tables are rendered from the code's reason vocabulary (REASON_DOCS in
 * src/api/conditions.ts). This test fails when the docs are stale; regenerate with
 *   UPDATE_DOCS=1 npx vitest run test/unit/api/condition-docs.test.ts
 * It also ties REASON_DOCS to the reconciler: a reason src/reconciler/ uses must list where, and a
 * reason listed as used must appear there.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type ConditionUse, ConditionType, REASON_DOCS, Reason, type ReasonName } from "../../../src/api/conditions.js";
import { type EcsInstanceAttributes, validateSpec } from "../../../src/api/index.js";
import { decide } from "../../../src/reconciler/decide.js";

const root = join(import.meta.dirname, "../../..");
const DOC = join(root, "docs/api.md");
const BEGIN = "<!-- BEGIN GENERATED: condition tables (test/unit/api/condition-docs.test.ts) -->";
const END = "<!-- END GENERATED: condition tables -->";

const TRUE_MEANS: Record<string, string> = {
  [ConditionType.Ready]: "every managed attribute equals the spec (Observe: no drift)",
  [ConditionType.Synced]: "the last reconcile reached ECS without error",
  [ConditionType.RestartRequired]: "password, hostname or user data were applied and the instance has not been restarted from ECS since",
  [ConditionType.Reconciling]: "kstatus InProgress: the controller is still getting there (absent otherwise)",
  [ConditionType.Stalled]: "kstatus Failed: waiting will not help, the spec, a reference or the account must change (absent otherwise)",
};
const KSTATUS: readonly string[] = [ConditionType.Reconciling, ConditionType.Stalled];
/** Reasons derived from ECS codes (reasonFromEcsCode) are not in the vocabulary; say where they appear. */
const FROM_ECS_CODE: Partial<Record<ConditionUse, string>> = {
  "Ready=False": "the reason derived from an ECS code (`InvalidHostNameMalformed`, see below)",
};

const names = Object.keys(REASON_DOCS) as ReasonName[];
const code = (s: string): string => `\`${s}\``;

function reasonsFor(use: ConditionUse): string[] {
  return names.filter((n) => REASON_DOCS[n].uses.includes(use)).map(code);
}

/** Reconciling/Stalled carry the reason of the Ready or Synced condition that raised them (src/reconciler/status.ts). */
function kstatusRow(type: string): string {
  const list = names.filter((n) => REASON_DOCS[n].kstatus === type && REASON_DOCS[n].uses.length > 0).map(code);
  return `| ${code(type)} | ${TRUE_MEANS[type]} | True: the Ready or Synced reason that raised it: ${list.join(", ")} |`;
}

function render(): string {
  const rows = Object.values(ConditionType).map((type) => {
    if (KSTATUS.includes(type)) return kstatusRow(type);
    const parts = (["True", "False"] as const)
      .map((status) => {
        const use = `${type}=${status}` as ConditionUse;
        const list = [...reasonsFor(use), ...(FROM_ECS_CODE[use] ? [FROM_ECS_CODE[use]] : [])];
        return list.length > 0 ? `${status}: ${list.join(", ")}` : "";
      })
      .filter(Boolean);
    return `| ${code(type)} | ${TRUE_MEANS[type]} | ${parts.join(". ")} |`;
  });
  const reasonRows = names.map((n) => {
    const { uses, meaning, kstatus } = REASON_DOCS[n];
    return `| ${code(Reason[n])} | ${uses.length > 0 ? uses.join(", ") : "not set"} | ${kstatus ? `${kstatus}=True` : "none"} | ${meaning} |`;
  });
  return [
    BEGIN,
    "| Type | True means | Reasons the controller sets |",
    "|---|---|---|",
    ...rows,
    "",
    "The reason vocabulary is `Reason` in `src/api/conditions.ts`; `REASON_DOCS` there says where each is set,",
    "and which kstatus condition it raises while on a Ready or Synced condition that is not True",
    "(the controller derives `Reconciling` and `Stalled` from that column alone; see docs/gitops.md):",
    "",
    "| Reason | Set on | kstatus | Meaning |",
    "|---|---|---|---|",
    ...reasonRows,
    END,
  ].join("\n");
}

function reconcilerReasons(): Set<string> {
  const dir = join(root, "src/reconciler");
  const used = new Set<string>();
  for (const f of readdirSync(dir).filter((x) => x.endsWith(".ts"))) {
    for (const m of readFileSync(join(dir, f), "utf8").matchAll(/Reason\.(\w+)/g)) used.add(m[1]!);
  }
  return used;
}

describe("docs/api.md condition tables", () => {
  it("are rendered from REASON_DOCS (regenerate with UPDATE_DOCS=1)", () => {
    const doc = readFileSync(DOC, "utf8");
    const start = doc.indexOf(BEGIN);
    const end = doc.indexOf(END);
    expect(start, "generated block markers in docs/api.md").toBeGreaterThanOrEqual(0);
    const current = doc.slice(start, end + END.length);
    if (process.env["UPDATE_DOCS"] === "1" && current !== render()) {
      writeFileSync(DOC, doc.slice(0, start) + render() + doc.slice(end + END.length));
      return;
    }
    expect(current).toBe(render());
  });

  it("REASON_DOCS agrees with the reasons src/reconciler/ sets", () => {
    const used = reconcilerReasons();
    const listedUsed = names.filter((n) => REASON_DOCS[n].uses.length > 0);
    expect(
      listedUsed.filter((n) => !used.has(n)),
      "listed as set but not used by the reconciler",
    ).toEqual([]);
    expect(
      [...used].filter((n) => n in REASON_DOCS && REASON_DOCS[n as ReasonName].uses.length === 0),
      "used but listed as not set",
    ).toEqual([]);
  });

  // Issue 18: a reason that leaves Ready or Synced False must say whether GitOps tools should keep
  // waiting (Reconciling) or give up (Stalled); only Paused is deliberately neither (docs/gitops.md).
  it("every reason set on Ready=False or Synced=False declares its kstatus effect (Paused alone is neither)", () => {
    const undecided = names.filter((n) => REASON_DOCS[n].uses.some((u) => u === "Ready=False" || u === "Synced=False") && REASON_DOCS[n].kstatus === null);
    expect(undecided).toEqual(["Paused"]);
  });

  // The statuses themselves are asserted by the reconciler's own tests (test/unit/reconciler/); this
  // pins the documented pair, which README's reason table repeats (issue 20 item 3).
  it("Paused is documented as Ready=False and Synced=False", () => {
    expect(REASON_DOCS.Paused.uses).toEqual(["Ready=False", "Synced=False"]);
    expect(reconcilerReasons().has("Paused")).toBe(true);
    const readme = readFileSync(join(root, "README.md"), "utf8");
    expect(readme).toMatch(/\| `Paused` \| Ready\/Synced=False \|/);
  });

  it("Paused sets Ready=False and Synced=False, as the reconciler decides", () => {
    expect(REASON_DOCS.Paused.uses).toEqual(["Ready=False", "Synced=False"]);
    const obj = {
      metadata: { namespace: "ns", name: "a", annotations: { "ecs.alicloud.dev/paused": "true" } },
      spec: { instanceId: "i-1", regionId: "cn-hangzhou" },
    } as unknown as EcsInstanceAttributes;
    const d = decide({ obj, spec: validateSpec(obj.spec), inputs: {}, now: new Date() });
    expect("read" in d ? undefined : d.status).toMatchObject({ ready: { status: "False", reason: "Paused" }, synced: { status: "False", reason: "Paused" } });
  });
});
