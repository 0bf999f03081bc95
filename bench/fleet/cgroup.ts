/**
 * A memory cgroup for the benchmark's controller process (`--memory-limit MiB`), so it runs the way a
 * Pod with `resources.limits.memory` does: Node sizes its heap from the constrained memory at start,
 * and the kernel OOM-kills the process when the group's usage reaches the limit.
 *
 * cgroup v1 (a `memory` hierarchy, e.g. /sys/fs/cgroup/memory) or v2 (the unified hierarchy with the
 * memory controller), whichever this machine has. The group is created as a child of this process's
 * own memory cgroup (read from /proc/self/cgroup), so it nests inside whatever limits already apply.
 * The controller enters it before Node starts: `launcher()` is a `sh -c` that writes its own PID into
 * cgroup.procs and then execs node (same PID, so /proc readings stay valid).
 *
 * Hand-written: the few file reads and writes below are all it takes; a library (e.g. cgroup tools)
 * would add a native dependency or a binary the machine may not have.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface CgroupReadings {
  /** Highest usage of the group since it was created (MiB). */
  peakMiB: number;
  /** Processes the kernel OOM-killed in the group. */
  oomKills: number;
  /** Times usage hit the limit (v1 failcnt; v2 memory.events max). */
  limitHits: number;
}

export interface MemoryCgroup {
  readonly version: 1 | 2;
  readonly path: string;
  readonly limitMiB: number;
  /** What to spawn instead of node: the launcher's argv, to be followed by node's path and args. */
  launcher(): string[];
  readings(): CgroupReadings;
  /** Removes the (empty) group. */
  remove(): void;
}

const MiB = 1024 * 1024;

/** This process's cgroup path for a v1 controller ("memory") or v2 (""), from /proc/self/cgroup. */
function ownGroup(controller: string): string | undefined {
  for (const line of readFileSync("/proc/self/cgroup", "utf8").trim().split("\n")) {
    const [, ctrls, path] = line.split(":");
    if (ctrls === undefined || path === undefined) continue;
    if (controller === "" ? ctrls === "" : ctrls.split(",").includes(controller)) return path;
  }
  return undefined;
}

/** The writable memory-cgroup parent directory and its version, or the reason there is none. */
function findParent(): { version: 1 | 2; dir: string } | string {
  const v1 = ownGroup("memory");
  const v1Root = "/sys/fs/cgroup/memory";
  if (v1 !== undefined && existsSync(join(v1Root, "memory.limit_in_bytes"))) {
    const dir = join(v1Root, v1);
    if (existsSync(join(dir, "memory.limit_in_bytes"))) return { version: 1, dir };
  }
  const v2 = ownGroup("");
  const v2Root = "/sys/fs/cgroup";
  if (v2 !== undefined && existsSync(join(v2Root, "cgroup.controllers"))) {
    const dir = join(v2Root, v2);
    const controllers = readFileSync(join(v2Root, "cgroup.controllers"), "utf8").split(/\s+/);
    if (controllers.includes("memory")) return { version: 2, dir };
    return "cgroup v2 is mounted but its memory controller is not available";
  }
  return "no cgroup v1 memory hierarchy at /sys/fs/cgroup/memory and no cgroup v2 memory controller at /sys/fs/cgroup";
}

const readNumber = (file: string): number => Number(readFileSync(file, "utf8").trim());

/** `key value` lines (memory.events, memory.oom_control) as a map. */
function keyed(file: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, "utf8").trim().split("\n")) {
    const [k, v] = line.split(/\s+/);
    if (k && v !== undefined) out.set(k, Number(v));
  }
  return out;
}

/**
 * Creates the group with `limitMiB` as its hard limit (no swap). Throws one line saying why when
 * neither cgroup version is writable here.
 */
export function createMemoryCgroup(limitMiB: number, name: string): MemoryCgroup {
  const parent = findParent();
  if (typeof parent === "string") throw new Error(`--memory-limit: ${parent}`);
  const path = join(parent.dir, name);
  const bytes = String(Math.round(limitMiB * MiB));
  try {
    mkdirSync(path);
    if (parent.version === 1) {
      writeFileSync(join(path, "memory.limit_in_bytes"), bytes);
    } else {
      // v2: the controller must be enabled for the parent's children first.
      writeFileSync(join(parent.dir, "cgroup.subtree_control"), "+memory");
      writeFileSync(join(path, "memory.max"), bytes);
      if (existsSync(join(path, "memory.swap.max"))) writeFileSync(join(path, "memory.swap.max"), "0");
    }
  } catch (e) {
    if (existsSync(path)) rmdirSync(path);
    throw new Error(`--memory-limit: cannot create a cgroup v${parent.version} memory group under ${parent.dir}: ${(e as Error).message}`, { cause: e });
  }
  const v1 = parent.version === 1;
  return {
    version: parent.version,
    path,
    limitMiB,
    launcher: () => ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', path],
    readings: () => {
      if (v1) {
        return {
          peakMiB: readNumber(join(path, "memory.max_usage_in_bytes")) / MiB,
          oomKills: keyed(join(path, "memory.oom_control")).get("oom_kill") ?? 0,
          limitHits: readNumber(join(path, "memory.failcnt")),
        };
      }
      const events = keyed(join(path, "memory.events"));
      // memory.peak exists from Linux 5.19; before that only the current usage is known.
      const peakFile = existsSync(join(path, "memory.peak")) ? "memory.peak" : "memory.current";
      return { peakMiB: readNumber(join(path, peakFile)) / MiB, oomKills: events.get("oom_kill") ?? 0, limitHits: events.get("max") ?? 0 };
    },
    remove: () => {
      if (existsSync(path)) rmdirSync(path);
    },
  };
}
