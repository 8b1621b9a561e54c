// The first-load budget (issue 18): the gzip size of every JS and CSS file the built
// index.html loads must stay under 300 KB. Prints the figures; exits 1 above the budget.
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUDGET = 300 * 1024;
const dir = new URL('../dist/assets/', import.meta.url);
let total = 0;
for (const name of readdirSync(dir)) {
  if (!/\.(js|css)$/.test(name)) continue;
  const gz = gzipSync(readFileSync(new URL(name, dir)), { level: 9 }).length;
  total += gz;
  console.log(`${name}\t${(gz / 1024).toFixed(1)} KB gzip`);
}
console.log(`total\t${(total / 1024).toFixed(1)} KB gzip (budget ${BUDGET / 1024} KB)`);
if (total > BUDGET) {
  console.error('over the first-load budget');
  process.exit(1);
}
