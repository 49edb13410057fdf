import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

describe('README', () => {
  it('the API example runs as written and reports a small symmetrised KL', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = /## The API in 15 lines\s+```ts\n([\s\S]*?)```/.exec(readme);
    expect(block).not.toBeNull();
    // Point the package imports at the sources so the example runs without a build.
    const code = block![1]
      .replace("from 'sgbayes/node'", `from '${join(root, 'src/node.ts')}'`)
      .replace("from 'sgbayes'", `from '${join(root, 'src/index.ts')}'`)
      .replace('steps: 100_000, burnIn: 20_000', 'steps: 20_000, burnIn: 4_000');
    expect(code.split('\n').filter((l) => l.trim()).length).toBeLessThanOrEqual(16);
    const dir = mkdtempSync(join(tmpdir(), 'sgbayes-readme-'));
    const file = join(dir, 'example.mts');
    writeFileSync(file, code);
    const out = execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8' });
    const kl = Number(/symmetrised KL to the exact posterior: ([\d.]+)/.exec(out)?.[1]);
    expect(kl).toBeGreaterThan(0);
    expect(kl).toBeLessThan(1);
  });

  it('starts a newcomer with npm ci and then the demo or npm test', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toMatch(/npm ci\nnpx sgbayes demo/);
    expect(readme).toMatch(/npm ci\nnpm test/);
  });
});
