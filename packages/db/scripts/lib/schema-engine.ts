// Loads Prisma's schema engine compiled to Wasm. The package's own entry point
// imports the .wasm file as an ES module, which Node cannot do, so the module is
// instantiated by hand against the package's JS glue.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlMigrationAwareDriverAdapterFactory,
} from "@prisma/driver-adapter-utils";
import * as glue from "@prisma/schema-engine-wasm/schema_engine_bg";

export type SchemaEngine = glue.SchemaEngine;

// The glue reports Rust panics through this global; without it a panic surfaces
// as "Cannot read properties of undefined (reading 'set_message')".
const panics = {
  message: undefined as string | undefined,
  set_message(message: string) {
    this.message = message;
    console.error(`schema engine panicked: ${message}`);
  },
};
(globalThis as { PRISMA_WASM_PANIC_REGISTRY?: unknown }).PRISMA_WASM_PANIC_REGISTRY = panics;

// The tsconfig's lib has no WebAssembly typings (they come with "DOM"); this is
// the one call used.
declare const WebAssembly: {
  instantiate(
    bytes: Uint8Array,
    imports: object,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
};

export async function loadSchemaEngine(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  log: (message: string) => void = () => {},
): Promise<SchemaEngine> {
  const require = createRequire(import.meta.url);
  const gluePath = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
  const bytes = readFileSync(gluePath.replace(/\.js$/, ".wasm"));
  const { instance } = await WebAssembly.instantiate(bytes, { "./schema_engine_bg.js": glue });
  const exports = instance.exports as { __wbindgen_start: () => void };
  glue.__wbg_set_wasm(exports);
  exports.__wbindgen_start();
  return glue.SchemaEngine.new(
    { datamodels: undefined },
    log,
    bindMigrationAwareSqlAdapterFactory(adapterFactory),
  );
}
