#!/usr/bin/env node
// Builds the script-tag bundle of <sealchat-widget>: one self-contained ES module, minified, with
// its Subresource Integrity hash printed (and written next to it) for the embed snippet.
// One file on purpose: SRI on the <script> tag covers only that file, so a lazily loaded chunk
// would be code the site owner never pinned.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const root = resolve(import.meta.dirname, '..');
const outDir = resolve(root, 'packages/widget/dist/cdn');
const fileName = 'sealchat-widget.js';

await build({
  configFile: false,
  logLevel: 'warn',
  root,
  resolve: { conditions: ['source', 'browser', 'production'] },
  define: { 'process.env.NODE_ENV': '"production"' },
  build: {
    outDir,
    emptyOutDir: true,
    minify: true,
    sourcemap: false,
    lib: { entry: resolve(root, 'packages/widget/src/define.ts'), formats: ['es'], fileName: () => fileName },
    rolldownOptions: { output: { codeSplitting: false } },
  },
});

const bytes = readFileSync(resolve(outDir, fileName));
const integrity = `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
const gzip = gzipSync(bytes, { level: 9 }).length;
writeFileSync(resolve(outDir, `${fileName}.sri`), `${integrity}\n`);
console.log(`widget bundle: packages/widget/dist/cdn/${fileName}  ${bytes.length} B, ${gzip} B gzip`);
console.log(`integrity:     ${integrity}`);
