/**
 * `npm run build`: tvpay as compiled JavaScript in dist/ (what `npm start`
 * runs), with the TV app bundled ahead of time and its stylesheet beside it.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { bundleTvApp } from '../src/tv/tv-bundle.ts';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')],
  { stdio: 'inherit' },
);
mkdirSync(join(dist, 'tv', 'app'), { recursive: true });
await bundleTvApp(join(root, 'src', 'tv', 'app', 'main.ts'), join(dist, 'tv', 'app.js'));
copyFileSync(join(root, 'src', 'tv', 'app', 'app.css'), join(dist, 'tv', 'app', 'app.css'));
console.log('built dist/ (compiled JavaScript and the TV bundle)');
