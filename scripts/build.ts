/**
 * `npm run build`: tvpay as compiled JavaScript in dist/ (what `npm start`
 * runs), with the TV app bundled ahead of time and its stylesheet beside it.
 * With `--if-changed` (what `npm start` passes) it does nothing when dist/ was
 * built from the same sources: a restart then takes a second, not the 18–40 s
 * of a compile on a small machine.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { bundleTvApp } from '../src/tv/tv-bundle.ts';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
const stampFile = join(dist, '.sources-sha256');

/** Every file the build reads, by path and content: src/, the build's tsconfig, the lockfile and this script. */
function sourcesDigest(): string {
  const hash = createHash('sha256');
  const files = [join(root, 'tsconfig.build.json'), join(root, 'package-lock.json'), join(root, 'scripts', 'build.ts')];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk(join(root, 'src'));
  for (const file of files) hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

const digest = sourcesDigest();
if (process.argv.includes('--if-changed') && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === digest) {
  process.exit(0);
}
rmSync(dist, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')],
  { stdio: 'inherit' },
);
mkdirSync(join(dist, 'tv', 'app'), { recursive: true });
await bundleTvApp(join(root, 'src', 'tv', 'app', 'main.ts'), join(dist, 'tv', 'app.js'));
copyFileSync(join(root, 'src', 'tv', 'app', 'app.css'), join(dist, 'tv', 'app', 'app.css'));
writeFileSync(stampFile, digest);
console.log('built dist/ (compiled JavaScript and the TV bundle)');
