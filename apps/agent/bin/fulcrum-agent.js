#!/usr/bin/env node
// The agent is TypeScript run through tsx, so operators need no build step.
import { register } from "tsx/esm/api";

register();
await import("../src/cli.ts");
