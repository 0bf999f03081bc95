/**
 * pflag (cobra, controller-runtime's CLIs) accepts `--leader-elect=true` and `--leader-elect=false`;
 * node:util parseArgs refuses a value on a boolean option. Manifests written for Go operators pass
 * the `=true` form, so it is rewritten before parsing: `--flag=<true>` → `--flag`, `--flag=<false>` →
 * `--no-flag` (parseArgs' allowNegative form). The accepted words are strconv.ParseBool's, as in pflag.
 */

const TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** Rewrites `--name=value` for the given boolean flag names; throws Error with pflag's wording on a bad value. */
export function normalizeBoolFlags(argv: readonly string[], boolFlags: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const [i, arg] of argv.entries()) {
    // "--" ends the flags; leave the rest alone so parseArgs reports them as it always has.
    if (arg === "--") return [...out, ...argv.slice(i)];
    const m = /^--([A-Za-z0-9][A-Za-z0-9-]*)=(.*)$/s.exec(arg);
    if (!m || !boolFlags.has(m[1]!)) {
      out.push(arg);
      continue;
    }
    const [, name, value] = m as unknown as [string, string, string];
    if (TRUE.has(value)) out.push(`--${name}`);
    else if (FALSE.has(value)) out.push(`--no-${name}`);
    else throw new Error(`invalid argument "${value}" for "--${name}" flag: want true or false`);
  }
  return out;
}
