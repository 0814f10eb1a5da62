import { hostname } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { enrollRequestSchema } from "@fulcrum/protocol";
import { z } from "zod";
import { ConfigError } from "./errors";

export const USAGE = `usage:
  fulcrum-agent --console URL [--token TOKEN] [--state-dir DIR] [--name NAME]
  fulcrum-agent --config snapshot.json

  --console URL     console base URL, e.g. https://console.example:3000   (env FULCRUM_CONSOLE_URL)
  --token TOKEN     enrollment token; needed only until the agent holds a credential (env FULCRUM_AGENT_TOKEN)
  --state-dir DIR   where the credential and last good snapshot live (default ./.fulcrum-agent, env FULCRUM_STATE_DIR)
  --name NAME       name shown in the console (default: this host's name)
  --config FILE     serve a snapshot file without a console (SIGHUP reloads it)`;

export type AgentConfig =
  | { mode: "console"; consoleUrl: URL; token: string | undefined; stateDir: string; name: string }
  | { mode: "file"; configPath: string };

const consoleUrl = z
  .string({ error: "--console is required (or set FULCRUM_CONSOLE_URL)" })
  .pipe(z.url({ protocol: /^https?$/, error: "--console must be an http:// or https:// URL" }));

const consoleArgs = z.object({
  console: consoleUrl,
  token: enrollRequestSchema.shape.token
    .optional()
    .refine((t) => t === undefined || t.trim() === t, "--token has leading or trailing whitespace"),
  "state-dir": z.string().min(1, "--state-dir must not be empty"),
  name: enrollRequestSchema.shape.name,
});

const fileArgs = z.object({ config: z.string().min(1, "--config needs a file path") });

function describe(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const flag = i.path[0] === undefined ? "" : `--${String(i.path[0])}: `;
      return i.message.startsWith("--") ? i.message : `${flag}${i.message}`;
    })
    .join("; ");
}

/** Parses once at start and fails with a message that says what to fix. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): AgentConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        console: { type: "string" },
        token: { type: "string" },
        "state-dir": { type: "string" },
        name: { type: "string" },
        config: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  if (values.help) throw new ConfigError("help requested");

  if (values.config !== undefined) {
    const stray = ["console", "token", "name"].filter((k) => values[k] !== undefined);
    if (stray.length > 0) {
      throw new ConfigError(`--config runs without a console; drop ${stray.map((k) => `--${k}`).join(", ")}`);
    }
    const parsed = fileArgs.safeParse(values);
    if (!parsed.success) throw new ConfigError(describe(parsed.error));
    return { mode: "file", configPath: resolve(parsed.data.config) };
  }

  const parsed = consoleArgs.safeParse({
    console: values.console ?? env.FULCRUM_CONSOLE_URL,
    token: values.token ?? (env.FULCRUM_AGENT_TOKEN || undefined),
    "state-dir": values["state-dir"] ?? (env.FULCRUM_STATE_DIR || "./.fulcrum-agent"),
    name: values.name ?? hostname(),
  });
  if (!parsed.success) throw new ConfigError(describe(parsed.error));
  return {
    mode: "console",
    consoleUrl: new URL(parsed.data.console),
    token: parsed.data.token,
    stateDir: resolve(parsed.data["state-dir"]),
    name: parsed.data.name,
  };
}
