import { TRPCClientError } from "@trpc/client";

/** Per-field messages from the server's zod schemas or domain errors, for forms. */
export function fieldErrors(err: unknown): Record<string, string> {
  if (err instanceof TRPCClientError) {
    const data = err.data as { fieldErrors?: Record<string, string> | null } | undefined;
    return data?.fieldErrors ?? {};
  }
  return {};
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return "Something went wrong.";
}
