import type { NextConfig } from "next";

const config: NextConfig = {
  // Workspace packages ship TypeScript source.
  transpilePackages: ["@fulcrum/protocol", "@fulcrum/balancer"],
  serverExternalPackages: ["pg", "ws", "@electric-sql/pglite", "pglite-prisma-adapter", "@fulcrum/db"],
  reactStrictMode: true,
  poweredByHeader: false,
  typescript: { ignoreBuildErrors: false },
};

export default config;
