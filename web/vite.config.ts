// Vite config of the browser demo: `npm run web` serves it, `npm run build:web` builds web/dist.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  // Relative asset paths, so web/dist works from any directory or static host.
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  // The library sources live one level up (../src); let the dev server read them.
  server: { fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } },
});
