import { type APIRequestContext, expect, type Page } from "@playwright/test";

/** The first admin the walking-skeleton spec creates; the console specs run after it. */
export const ADMIN = { name: "Erin Example", email: "erin@example.com", password: "a long admin password" };

export async function signIn(page: Page, email: string, password: string) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
}

/** Opens the console on `clusterId` (the shell reads the chosen cluster from localStorage). */
export async function useCluster(page: Page, clusterId: string) {
  await page.addInitScript(
    (id) =>
      (
        globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }
      ).localStorage.setItem("fulcrum.cluster", id),
    clusterId,
  );
}

type Auth = { token?: string };

function headers(auth: Auth): Record<string, string> {
  return auth.token ? { authorization: `Bearer ${auth.token}` } : {};
}

/** A tRPC call over plain HTTP, as an automation script would make it (superjson envelope). */
export async function call(
  request: APIRequestContext,
  kind: "query" | "mutation",
  path: string,
  input: unknown,
  auth: Auth = {},
): Promise<{ status: number; data: unknown; code?: string }> {
  const res =
    kind === "query"
      ? await request.get(`/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`, {
          headers: headers(auth),
        })
      : await request.post(`/api/trpc/${path}`, { data: { json: input }, headers: headers(auth) });
  const body = (await res.json()) as {
    result?: { data: { json: unknown } };
    error?: { json: { data?: { code?: string } } };
  };
  return { status: res.status(), data: body.result?.data.json, code: body.error?.json.data?.code };
}

/** Like `call`, but fails the test unless the call succeeded. */
export async function must<T>(
  request: APIRequestContext,
  kind: "query" | "mutation",
  path: string,
  input: unknown,
): Promise<T> {
  const r = await call(request, kind, path, input);
  expect(r.status, `${path}: ${JSON.stringify(r)}`).toBe(200);
  return r.data as T;
}
