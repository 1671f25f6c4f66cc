// Builds the web client: src/main.js -> app.js and src/app.css -> app.css (one file each, minified by esbuild),
// copies index.html and favicon.svg, and prints the gzipped sizes. Output: ../src/Conclave.Server/obj/webclient (where the server's build takes it from), or
// the folder named by the environment variable CONCLAVE_WEB_OUT.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.env.CONCLAVE_WEB_OUT ?? join(here, '../src/Conclave.Server/obj/webclient'));
mkdirSync(out, { recursive: true });

const common = {
  bundle: true,
  minify: process.env.CONCLAVE_WEB_MINIFY !== '0',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  legalComments: 'eof',
  logLevel: 'warning',
  charset: 'utf8',
};

await Promise.all([
  build({
    ...common,
    entryPoints: [join(here, 'src/main.js')],
    outfile: join(out, 'app.js'),
    format: 'iife',
    define: { 'process.env.NODE_ENV': '"production"' },
  }),
  build({
    ...common,
    entryPoints: [join(here, 'src/app.css')],
    outfile: join(out, 'app.css'),
    external: ['*.svg'],
  }),
]);

for (const name of ['index.html', 'favicon.svg']) copyFileSync(join(here, 'src', name), join(out, name));

let total = 0;
const rows = [];
for (const name of ['app.js', 'app.css', 'index.html', 'favicon.svg']) {
  const bytes = readFileSync(join(out, name));
  const gz = gzipSync(bytes, { level: 9 }).length;
  if (name === 'app.js' || name === 'app.css') total += gz;
  rows.push(`  ${name.padEnd(12)} ${(bytes.length / 1024).toFixed(1).padStart(7)} KB  ${(gz / 1024).toFixed(1).padStart(6)} KB gzipped`);
}
console.log(`web client built into ${out}\n${rows.join('\n')}\n  JS+CSS total ${(total / 1024).toFixed(1)} KB gzipped`);
