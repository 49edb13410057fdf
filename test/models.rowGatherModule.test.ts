/**
 * The row-gather module is generated: the committed src/models/wasm/row-gather-module.ts must be
 * what wasm/row-gather-wat.ts assembles to, and its block size must be the generator's.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
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

  it('exports dot and acc over an imported memory, and compiles once', () => {
    const embedded = embeddedWasm(ROW_GATHER_WASM_BASE64);
    const module = embedded.moduleOrNull();
    expect(module).not.toBeNull();
    expect(embedded.moduleSync()).toBe(module);
    expect(WebAssembly.Module.exports(module as WebAssembly.Module).map((e) => `${e.name}:${e.kind}`).sort()).toEqual(['acc:function', 'dot:function']);
    expect(WebAssembly.Module.imports(module as WebAssembly.Module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
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
