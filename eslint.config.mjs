// Flat config built on eslint-config-next 16's flat exports: the base config
// upgraded by core-web-vitals, plus the typescript-eslint recommended rules.
import { readdirSync } from "node:fs";
import { defineConfig, globalIgnores } from "eslint/config";
import nextVitals from "eslint-config-next/core-web-vitals";
import nextTypescript from "eslint-config-next/typescript";

/**
 * The modules, lowest first: each may import the modules before it, never one after it or
 * beside it in its layer. Aggregates first (roles deletes its members' roles, so it sits above
 * users), then the features built on them, which may also import the composition root
 * (modules/index.ts). A new module gets a place here; modules/streams.ts (the stream names)
 * imports nothing and is open to all.
 */
const MODULE_LAYERS = [["users"], ["roles", "api-tokens"], ["activity", "access", "operations", "notifications", "privacy", "webhooks"]];
const AGGREGATE_LAYERS = 2;

function layerZones() {
  const unplaced = readdirSync(new URL("./modules", import.meta.url), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !MODULE_LAYERS.flat().includes(entry.name))
    .map((entry) => entry.name);
  if (unplaced.length) {
    // Unplaced, a module would escape the rules below: say where to place it.
    throw new Error(`eslint.config.mjs: give modules/${unplaced.join(", modules/")} a place in MODULE_LAYERS`);
  }
  const zones = [
    {
      target: ["./lib", "./infra"],
      from: ["./modules", "./app", "./workers", "./scripts"],
      message: "lib/ and infra/ know no module or route: take what a module gives through its definition (lib/module.ts).",
    },
    {
      target: "./modules",
      from: ["./app", "./workers", "./scripts"],
      message: "modules/ sit below app/, the workers and the scripts.",
    },
  ];
  MODULE_LAYERS.forEach((layer, i) => {
    const above = MODULE_LAYERS.slice(i + 1).flat();
    for (const name of layer) {
      const forbidden = [...above, ...layer.filter((other) => other !== name)];
      if (forbidden.length) {
        zones.push({
          target: `./modules/${name}`,
          from: forbidden.map((other) => `./modules/${other}`),
          message: `modules/${name} may import only the modules below it (eslint.config.mjs, MODULE_LAYERS): no cycle between modules.`,
        });
      }
      if (i < AGGREGATE_LAYERS) {
        zones.push({
          target: `./modules/${name}`,
          from: ["./modules/index.ts", "./modules/live.ts"],
          message: "The composition root lists the aggregates; an aggregate module cannot import it back.",
        });
      }
    }
  });
  return zones;
}

export default defineConfig([
  ...nextVitals,
  ...nextTypescript,
  {
    rules: {
      // `_`-prefixed names are deliberately unused (e.g. dropping a key by destructuring).
      "@typescript-eslint/no-unused-vars": [
        "warn",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
      // `tx.defer\`…\`` queues a statement (lib/sql-tx.ts): a tagged template called for its effect.
      "@typescript-eslint/no-unused-expressions": ["warn", { allowTaggedTemplates: true }],
    },
  },
  {
    // The layers (README, Layout): app/ → modules/ → lib/. Nothing in lib/ or infra/ knows a
    // module or a route; modules sit below app/, the workers and the scripts; and modules depend
    // on each other in one direction only (MODULE_LAYERS), so no two can form a cycle. A module
    // hands the framework what it needs through its definition (lib/module.ts), and the
    // composition root (modules/index.ts, modules/live.ts) lists the definitions.
    // eslint-plugin-import comes with eslint-config-next, which registers it as `import`.
    rules: {
      "import/no-restricted-paths": ["error", { zones: layerZones() }],
      "import/no-cycle": ["error", { ignoreExternal: true }],
    },
  },
  globalIgnores([
    ".next/**",
    "out/**",
    "build/**",
    "next-env.d.ts",
    "generated/**",
    "node_modules/**",
    ".data/**",
    "test-results/**",
    "playwright-report/**",
  ]),
]);
