// What the server's contract needs from dist/ (run after `vite build`): index.html loads only
// same-origin files under /admin/assets/ and has nothing inline (no inline script, no <style>,
// no style attributes: the CSP forbids them); every other file sits in assets/ with a content
// hash in its name (served as immutable for a year). Exits 1 with the reasons otherwise.
import { readFileSync, readdirSync, statSync } from 'node:fs';

const dist = new URL('../dist/', import.meta.url);
const html = readFileSync(new URL('index.html', dist), 'utf8');
const problems = [];

for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
  if (!/\bsrc=/.test(m[1]) || m[2].trim()) problems.push(`inline script: ${m[0].slice(0, 80)}`);
}
if (/<style\b/i.test(html)) problems.push('a <style> element');
if (/\sstyle\s*=/i.test(html)) problems.push('a style attribute');
if (/\son[a-z]+\s*=/i.test(html)) problems.push('an inline event handler');
for (const m of html.matchAll(/\b(?:src|href)="([^"]+)"/g)) {
  if (!m[1].startsWith('/admin/assets/')) problems.push(`a reference outside /admin/assets/: ${m[1]}`);
}

function walk(dir, prefix = '') {
  for (const name of readdirSync(dir)) {
    const path = `${prefix}${name}`;
    if (statSync(new URL(name, dir)).isDirectory()) walk(new URL(`${name}/`, dir), `${path}/`);
    else if (path !== 'index.html') {
      if (!path.startsWith('assets/')) problems.push(`a file outside assets/: ${path}`);
      else if (!/-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/.test(name)) problems.push(`a file without a content hash: ${path}`);
    }
  }
}
walk(dist);

if (problems.length) {
  for (const p of problems) console.error(`dist: ${p}`);
  process.exit(1);
}
console.log('dist: index.html has nothing inline; every asset is hashed under assets/');
