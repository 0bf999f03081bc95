/**
 * Loads @kubernetes/client-node without its generated API clients and models (issue 15). The
 * controller uses the package's KubeConfig (kubeconfig/in-cluster loading, TLS material, token and
 * exec auth; src/app.ts, src/runtime/kube-http.ts) and its own raw HTTP for every request, but
 * KubeConfig's module (dist/config.js) imports dist/gen/index.js for two names, and that index loads
 * all ~225 generated API classes and ~2,700 models: ~40 MiB of resident memory for nothing
 * (bench/RESULTS.md, issue 15).
 *
 * `useSlimKubeClient()` registers a module resolve hook (node:module registerHooks) that answers
 * config.js's import of ./gen/index.js with a module exporting just those two names from their own
 * files. It must run before anything imports the package, so src/main.ts calls it first and loads
 * the rest dynamically. Should the package's config.js one day import another name from the index,
 * linking fails at start-up with a SyntaxError naming it (every process test would show it).
 */
import * as nodeModule from "node:module";

const CONFIG_MODULE = "/@kubernetes/client-node/dist/config.js";
/** What config.js imports from ./gen/index.js. */
const USED = { createConfiguration: "configuration.js", ServerConfiguration: "servers.js" } as const;

export function useSlimKubeClient(): void {
  // module.registerHooks is Node ≥ 22.15 / 23.5; package.json allows any 22, where the package then
  // loads whole (more memory, same behaviour) instead of failing to start.
  const registerHooks = (nodeModule as Partial<typeof nodeModule>).registerHooks;
  if (typeof registerHooks !== "function") return;
  const gen = (file: string) => import.meta.resolve(`@kubernetes/client-node/dist/gen/${file}`);
  const source = Object.entries(USED)
    .map(([name, file]) => `export { ${name} } from ${JSON.stringify(gen(file))};`)
    .join("\n");
  const shim = `data:text/javascript,${encodeURIComponent(source)}`;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (specifier === "./gen/index.js" && context.parentURL?.endsWith(CONFIG_MODULE)) return { url: shim, shortCircuit: true };
      return nextResolve(specifier, context);
    },
  });
}
