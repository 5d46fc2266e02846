// `npm run package`: the .vsix, named as vsce names it (agw-<version>.vsix), written into
// $AGW_VSIX_DIR (default: out/, which git ignores), so that a build never dirties the checkout.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { name, version } = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const dir = resolve(process.env.AGW_VSIX_DIR || join(here, 'out'));
const vsix = join(dir, `${name}-${version}.vsix`);
const vsce = join(here, 'node_modules', '@vscode', 'vsce', 'vsce');
if (!existsSync(vsce)) {
  console.error(`package: ${vsce} is missing; run \`npm ci\` first`);
  process.exit(1);
}
mkdirSync(dir, { recursive: true });
// A stale file of the same name would otherwise survive a failed run and pass for its output.
rmSync(vsix, { force: true });
const run = spawnSync(process.execPath, [vsce, 'package', '--out', vsix], { cwd: here, stdio: 'inherit' });
if (run.error) {
  console.error(`package: cannot run vsce: ${run.error.message}`);
  process.exit(1);
}
if (run.status !== 0) {
  process.exit(run.status ?? 1);
}
console.log(`package: ${vsix}`);
