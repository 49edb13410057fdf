import { build } from 'esbuild';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';

const root = resolve(import.meta.dirname, '..');

describe('public API', () => {
  it('src/index.ts bundles for the browser (no Node-only imports)', async () => {
    const result = await build({
      entryPoints: [resolve(root, 'src/index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    expect(result.errors).toHaveLength(0);
    expect(result.outputFiles[0].contents.length).toBeGreaterThan(1000);
  }, 120_000);

  it('exports the core contracts and every sampler factory', () => {
    for (const name of ['key', 'split', 'foldIn', 'sgld', 'constantSgd', 'psgld', 'sgfs', 'sghmc', 'momentumSgd', 'nuts', 'hmc', 'levyLangevin', 'runChains', 'linearRegression', 'customModel', 'summary']) {
      expect(typeof (api as Record<string, unknown>)[name], name).toBe('function');
    }
    expect(typeof api.ad.valueAndGrad).toBe('function');
  });
});
