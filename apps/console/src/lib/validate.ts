import type { z } from "zod";
import { fieldErrors } from "./errors";

/**
 * Runs a shared input schema in the browser so a form shows the same messages
 * the server would, without the round trip. Returns null when the input is valid.
 */
export function validate<S extends z.ZodType>(schema: S, input: unknown): Record<string, string> | null {
  const result = schema.safeParse(input);
  if (result.success) return null;
  const out: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const key = issue.path.map(String).join(".") || "_";
    out[key] ??= issue.message;
  }
  return out;
}

/** Client-side errors win; otherwise the server's per-field messages. */
export function mergeErrors(
  client: Record<string, string> | null,
  serverError: unknown,
): Record<string, string> {
  return client ?? fieldErrors(serverError);
}

/** A number from a form field, or undefined when it is empty (so the schema says what is missing). */
export function numberOrUndefined(v: FormDataEntryValue | null): number | undefined {
  if (v === null) return undefined;
  const s = String(v).trim();
  if (s === "") return undefined;
  return Number(s);
}

/**
 * Validates `input` with the server's own schema before sending it, so most
 * mistakes show at once; returns false when invalid or when the server refused
 * (the mutation's error carries the server's field messages).
 */
export async function submitValidated<I>(
  schema: z.ZodType,
  input: I,
  setClientErrors: (errors: Record<string, string> | null) => void,
  send: (input: I) => Promise<unknown>,
): Promise<boolean> {
  const invalid = validate(schema, input);
  setClientErrors(invalid);
  if (invalid) return false;
  try {
    await send(input);
    return true;
  } catch {
    return false;
  }
}
