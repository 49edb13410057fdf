/**
 * The one loader of the library's WebAssembly modules. Each module is written as WebAssembly text
 * by a generator in wasm/, assembled by `npm run build:wasm` and committed as a generated
 * TypeScript file holding its bytes in base64 (src/nn/wasm/gemm-module.ts,
 * src/models/wasm/row-gather-module.ts); this file decodes and compiles them, once each, with no
 * Node-only API, so they load in browsers and Node alike.
 */

/** A module embedded as base64: its bytes and its compiled form, each made once on first use. */
export interface EmbeddedWasm {
  /** The module's bytes (decoded once; callers must not modify them). */
  bytes(): Uint8Array<ArrayBuffer>;
  /** The compiled module, compiled synchronously the first time (throws what `new WebAssembly.Module` throws). */
  moduleSync(): WebAssembly.Module;
  /** The compiled module, compiled asynchronously the first time (rejects as `WebAssembly.compile` does). */
  module(): Promise<WebAssembly.Module>;
  /**
   * The compiled module, or null when this runtime has no WebAssembly or cannot compile the module
   * (so the caller keeps to its JavaScript path); the outcome is remembered.
   */
  moduleOrNull(): WebAssembly.Module | null;
}

/** Whether this runtime has the WebAssembly JavaScript API. */
export function hasWebAssembly(): boolean {
  return typeof WebAssembly === 'object' && typeof WebAssembly.Module === 'function';
}

/** Decodes base64 text into fresh bytes (`atob` exists in browsers and Node ≥ 16). */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The embedded module whose bytes are `base64` (the constant of a generated module file). */
export function embeddedWasm(base64: string): EmbeddedWasm {
  let bytes: Uint8Array<ArrayBuffer> | null = null;
  let compiled: WebAssembly.Module | null = null;
  let compiling: Promise<WebAssembly.Module> | null = null;
  // undefined: not tried yet; null: no WebAssembly or the module was refused.
  let usable: WebAssembly.Module | null | undefined;
  const embedded: EmbeddedWasm = {
    bytes() {
      bytes ??= decodeBase64(base64);
      return bytes;
    },
    moduleSync() {
      compiled ??= new WebAssembly.Module(embedded.bytes());
      return compiled;
    },
    async module() {
      if (compiled === null) {
        compiling ??= WebAssembly.compile(embedded.bytes());
        compiled = await compiling;
      }
      return compiled;
    },
    moduleOrNull() {
      if (usable === undefined) {
        try {
          usable = hasWebAssembly() ? embedded.moduleSync() : null;
        } catch {
          // A validator that rejects the module (e.g. a missing feature): the JavaScript path serves.
          usable = null;
        }
      }
      return usable;
    },
  };
  return embedded;
}
