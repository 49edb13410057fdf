/**
 * `npm run build:wasm`: regenerates every module's TypeScript file (src/nn/wasm/gemm-module.ts,
 * src/models/wasm/row-gather-module.ts) from its generator in wasm/.
 * Pass `--wat <name>` (gemm, row-gather) to print that module's WebAssembly text instead (for
 * reading what the kernels do).
 */
import { writeFileSync } from 'node:fs';
import { assembleModule, generatedModuleSource, WASM_MODULES } from './assemble.js';

const watAt = process.argv.indexOf('--wat');
if (watAt >= 0) {
  const name = process.argv[watAt + 1];
  const spec = WASM_MODULES.find((m) => m.name === name);
  if (spec === undefined) {
    console.error(`build:wasm: --wat needs a module name, one of ${WASM_MODULES.map((m) => m.name).join(', ')}; got ${name ?? 'none'}`);
    process.exit(2);
  }
  process.stdout.write(spec.wat());
} else {
  for (const spec of WASM_MODULES) {
    const bytes = await assembleModule(spec);
    writeFileSync(spec.outputPath, generatedModuleSource(spec, bytes));
    console.log(`${spec.outputPath}: ${bytes.length} bytes of wasm`);
  }
}
