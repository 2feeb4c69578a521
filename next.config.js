// ESM: package.json has "type": "module". Kept minimal on purpose; no
// next/font/google (the build has no network).

/** @type {import("next").NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Loaded by Node, not bundled: one prom-client (and so one metrics registry) per process.
  serverExternalPackages: ["prom-client"],
  // `npm test` type-checks the whole project, with the route types of `next typegen`, before it
  // builds, and sets this so its build does not do it a second time. Every other build checks.
  typescript: { ignoreBuildErrors: process.env.NEXT_SKIP_BUILD_TYPECHECK === "1" },
};

export default nextConfig;
