/// <reference types="vitest/config" />
import { defineConfig } from 'vite';

// Served by codex-central at /admin/: index.html there, every other file content-hashed under
// /admin/assets/ (cached for a year). No inline script or style (the CSP forbids both), so no
// modulepreload polyfill and no inlined assets.
export default defineConfig({
  base: '/admin/',
  publicDir: false,
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
  },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    environment: 'node',
  },
});
