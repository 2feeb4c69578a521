// ESM: package.json has "type": "module". Kept minimal on purpose; no
// next/font/google (the build has no network).

/** @type {import("next").NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
};

export default nextConfig;
