// typescript-eslint (type-aware) rather than Biome: a controller is mostly async code, and the
// type-aware rules (no-floating-promises, no-misused-promises, await-thenable) catch the lost
// rejections and unawaited writes that cause silent hangs. Biome has no type information.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", "test/controlplane/**", "deploy/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "error",
    },
  },
  {
    // Tests, scripts and benchmarks print to the terminal and poke at loosely typed JSON.
    files: ["test/**", "harness/**", "scripts/**", "bench/**", "**/*.mjs"],
    rules: {
      "no-console": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
      // Fakes implement async interfaces without awaiting anything.
      "@typescript-eslint/require-await": "off",
    },
  },
  // Folder boundaries (docs/architecture in README; design: main → runtime, reconciler, cloud, api;
  // reconciler → cloud, api; runtime knows nothing of ECS; the emulator models the cloud and shares
  // no code with the controller). Enforced here so that "defined once" and the layering are checked.
  boundary("src/runtime/**", ["api", "cloud", "reconciler", "emulator"], "src/runtime is generic controller machinery: it imports no domain code"),
  boundary("src/api/**", ["cloud", "reconciler", "runtime", "emulator"], "src/api is the resource's schema and rules: it depends on nothing else in src"),
  boundary("src/cloud/**", ["reconciler", "runtime", "emulator"], "src/cloud talks to ECS: it may use src/api, never the reconciler or the runtime"),
  boundary("src/reconciler/**", ["emulator"], "the controller never imports the emulator (it is the cloud's stand-in)"),
  boundary("src/*.ts", ["emulator"], "the controller never imports the emulator (it is the cloud's stand-in)"),
  boundary("src/emulator/**", ["api", "cloud", "reconciler", "runtime"], "the emulator models ECS on its own: it imports nothing of the controller"),
  { files: ["**/*.js", "**/*.mjs"], ...tseslint.configs.disableTypeChecked },
);

/** A no-restricted-imports rule forbidding imports of the named src/ folders from `files`. */
function boundary(files, folders, message) {
  const group = folders.flatMap((f) => [`**/${f}/*`, `**/${f}/**`]);
  const top = files === "src/emulator/**" ? [{ group: ["**/config.js", "**/app.js", "**/run.js", "**/main.js"].map((g) => `../${g}`), message }] : [];
  return { files: [files], rules: { "no-restricted-imports": ["error", { patterns: [{ group, message }, ...top] }] } };
}
