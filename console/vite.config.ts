import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The console's build: two pages (the SOC app and GraphiQL), every script, style and font bundled
 * into console/dist (assets under /console/assets/), nothing loaded from elsewhere and no inline script
 * (the gateway serves them with a strict Content-Security-Policy).
 */
export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'console/assets',
    // Fonts and images become files, never data: URLs inlined into scripts.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 4000,
    sourcemap: false,
    rollupOptions: {
      input: { index: `${root}index.html`, graphiql: `${root}graphiql.html` },
      // GraphiQL's react-compiler-runtime says "use no memo" at module level, which bundling drops harmlessly.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
});
