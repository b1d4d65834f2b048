import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";
import { writeFileSync } from "node:fs";
import type { Plugin } from "vite";

// vite empties dist/ before each build; the Go embed (embed.go) needs the
// tracked placeholder dist/.gitkeep to exist on a clean checkout, so put it back.
const keepGitkeep = (): Plugin => ({
  name: "tollgate-keep-gitkeep",
  apply: "build",
  closeBundle() {
    writeFileSync(new URL("./dist/.gitkeep", import.meta.url), "");
  },
});

// The console is served by the Go binary from frontend/dist (see embed.go).
// In dev, /api is proxied to a running `tollgate serve` (TOLLGATE_DEV_API).
const api = process.env.TOLLGATE_DEV_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react(), keepGitkeep()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    // The largest chunk is the chart library (~120 kB gzip), loaded only when a chart is shown.
    chunkSizeWarningLimit: 450,
  },
  server: {
    proxy: { "/api": { target: api, ws: true } },
  },
  preview: {
    proxy: { "/api": { target: api, ws: true } },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
