/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const daemon = process.env.VM_SYSTEM_API_PROXY_TARGET ?? 'http://127.0.0.1:3210';
const proxied = ['/api', '/metrics', '/openapi.json', '/docs'];

export default defineConfig({
  base: '/',
  plugins: [react()],
  server: {
    port: 3000,
    strictPort: true,
    proxy: Object.fromEntries(proxied.map((p) => [p, { target: daemon, changeOrigin: false }])),
  },
  build: {
    outDir: '../vmsystem/web/static',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 700,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
  },
});
