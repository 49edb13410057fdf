/**
 * The row-gather module is generated: the committed src/models/wasm/row-gather-module.ts must be
 * what wasm/row-gather-wat.ts assembles to, and its block size must be the generator's.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { key, normal, uniform } from '../src/core/random.js';
import { accumulateWeightedRows, batchLinearPredictors, rowGather } from '../src/models/common.js';
import { decodeBase64, embeddedWasm } from '../src/models/wasm/embedded.js';
import { ROW_GATHER_BLOCK, ROW_GATHER_WASM_BASE64 } from '../src/models/wasm/row-gather-module.js';
import { assembleModule, generatedModuleSource, ROW_GATHER_MODULE } from '../wasm/assemble.js';
import { ROW_BLOCK, rowGatherWat } from '../wasm/row-gather-wat.js';

describe('row-gather WebAssembly module', () => {
  it('the committed module is what wasm/row-gather-wat.ts assembles to (npm run build:wasm regenerates it)', async () => {
    const bytes = await assembleModule(ROW_GATHER_MODULE);
    expect(readFileSync(ROW_GATHER_MODULE.outputPath, 'utf8')).toBe(generatedModuleSource(ROW_GATHER_MODULE, bytes));
    expect(Array.from(decodeBase64(ROW_GATHER_WASM_BASE64))).toEqual(Array.from(bytes));
    expect(ROW_GATHER_BLOCK).toBe(ROW_BLOCK);
  });

  it('exports dot, acc and touch over an imported memory, and compiles once', () => {
    const embedded = embeddedWasm(ROW_GATHER_WASM_BASE64);
    const module = embedded.moduleOrNull();
    expect(module).not.toBeNull();
    expect(embedded.moduleSync()).toBe(module);
    expect(WebAssembly.Module.exports(module as WebAssembly.Module).map((e) => `${e.name}:${e.kind}`).sort()).toEqual(['acc:function', 'dot:function', 'touch:function']);
    expect(WebAssembly.Module.imports(module as WebAssembly.Module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
  });

  it('an x above 1 MiB (rows touched before the products) still has the bits of the JavaScript loops', () => {
    const [rows, p] = [10_000, 16];
    const x = normal(key(7), rows * p);
    const gather = rowGather(x, p, rows, 1);
    expect(gather.constructor.name).toBe('WasmRowGather');
    for (const size of [5, 32]) {
      const batch = Int32Array.from(uniform(key(size), size), (v) => Math.floor(v * rows));
      const theta = normal(key(100 + size), p + 1);
      const [zWant, zGot] = [new Float64Array(size), new Float64Array(size)];
      batchLinearPredictors('test', x, p, rows, true, theta, batch, zWant);
      gather.linearPredictors('test', true, theta, batch, zGot);
      expect(Array.from(zGot)).toEqual(Array.from(zWant));
      const gradWant = normal(key(200 + size), p + 1);
      const gradGot = Float64Array.from(gradWant);
      accumulateWeightedRows(x, p, true, batch, zWant, gradWant);
      gather.accumulateWeightedRows(true, batch, zWant, gradGot);
      expect(Array.from(gradGot)).toEqual(Array.from(gradWant));
    }
  });

  it('the generator rejects a block size that is not a positive integer', () => {
    expect(() => rowGatherWat(0)).toThrow('rowGatherWat: block must be an integer ≥ 1, got 0');
    expect(() => rowGatherWat(2.5)).toThrow(RangeError);
  });

  it('decodeBase64 and a module the runtime refuses: moduleOrNull gives null, moduleSync throws', () => {
    expect(Array.from(decodeBase64('AAEC/w=='))).toEqual([0, 1, 2, 255]);
    // Eight bytes of magic and version with a truncated section: not a valid module.
    const broken = embeddedWasm(btoa(String.fromCharCode(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5)));
    expect(broken.moduleOrNull()).toBeNull();
    expect(() => broken.moduleSync()).toThrow(WebAssembly.CompileError);
  });
});
