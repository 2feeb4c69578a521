// Flat config built on eslint-config-next 16's flat exports: the base config
// upgraded by core-web-vitals, plus the typescript-eslint recommended rules.
import { defineConfig, globalIgnores } from "eslint/config";
import nextVitals from "eslint-config-next/core-web-vitals";
import nextTypescript from "eslint-config-next/typescript";

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
