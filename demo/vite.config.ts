// The browser demo (docs/listen.md, "The demo page"): `npm run demo:web` serves it with Vite's dev
// server; test/browser-demo.test.ts builds it with this config and drives it in headless Chromium.
// The package's pretrained models (../pretrained) are served beside the page, so the page finds them
// at its own base URL; ?cnn=<url>&snn=<url> loads others.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: './',
  publicDir: here('../pretrained'),
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
  build: { outDir: here('../dist/demo'), emptyOutDir: true, target: 'es2022' },
});
