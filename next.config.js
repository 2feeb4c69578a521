// ESM: package.json has "type": "module". Kept minimal on purpose; no
// next/font/google (the build has no network).

/** @type {import("next").NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Loaded by Node, not bundled: one prom-client (and so one metrics registry) per process.
  serverExternalPackages: ["prom-client"],
};

export default nextConfig;
