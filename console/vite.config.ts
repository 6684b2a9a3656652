import react from '@vitejs/plugin-react';
import path from 'node:path';
import { defineConfig } from 'vite';

/**
 * The console: a single-page app built into dist/console, served by the service
 * at `/` (and GraphiQL at `/graphql` for browsers). Everything it loads comes
 * from the service itself: no CDN, no font or script from another host.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  // Monaco's workers (GraphiQL) split into chunks of their own.
  worker: { format: 'es' },
  build: {
    outDir: path.resolve(import.meta.dirname, '../dist/console'),
    emptyOutDir: true,
    sourcemap: false,
    // GraphiQL brings Monaco; it is split into its own page and loaded only there.
    chunkSizeWarningLimit: 5000,
    rollupOptions: {
      // GraphiQL's modules carry React Compiler directives ("use no memo") that bundling drops, harmlessly.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
      input: {
        console: path.resolve(import.meta.dirname, 'index.html'),
        graphiql: path.resolve(import.meta.dirname, 'graphiql.html'),
      },
    },
  },
});
