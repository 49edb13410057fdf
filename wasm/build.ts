/**
 * `npm run build:wasm`: regenerates src/nn/wasm/gemm-module.ts from wasm/gemm-wat.ts.
 * Pass --wat to print the WebAssembly text instead (for reading what the kernels do).
 */
import { writeFileSync } from 'node:fs';
import { assembleGemmModule, generatedModuleSource, GENERATED_MODULE_PATH } from './assemble.js';
import { gemmWat } from './gemm-wat.js';

if (process.argv.includes('--wat')) {
  process.stdout.write(gemmWat());
} else {
  const bytes = await assembleGemmModule();
  writeFileSync(GENERATED_MODULE_PATH, generatedModuleSource(bytes));
  console.log(`${GENERATED_MODULE_PATH}: ${bytes.length} bytes of wasm`);
}
