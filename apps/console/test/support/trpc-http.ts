/** A minimal tRPC-over-HTTP client for tests, speaking the wire format the browser uses (superjson). */
export interface HttpCaller {
  query(
    path: string,
    input?: unknown,
  ): Promise<{ status: number; data: unknown; error?: { message: string; data?: { code?: string } } }>;
  mutate(
    path: string,
    input?: unknown,
  ): Promise<{ status: number; data: unknown; error?: { message: string; data?: { code?: string } } }>;
}

export function httpCaller(baseUrl: string, headers: Record<string, string> = {}): HttpCaller {
  async function parse(res: Response) {
    const body = (await res.json()) as {
      result?: { data?: { json?: unknown } };
      error?: { json?: { message: string; data?: { code?: string } } };
    };
    return {
      status: res.status,
      data: body.result?.data?.json,
      ...(body.error?.json ? { error: body.error.json } : {}),
    };
  }
  return {
    async query(path, input) {
      const qs = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;
      return parse(await fetch(`${baseUrl}/api/trpc/${path}${qs}`, { headers }));
    },
    async mutate(path, input) {
      return parse(
        await fetch(`${baseUrl}/api/trpc/${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify({ json: input ?? null }),
        }),
      );
    },
  };
}

/** Signs in through better-auth's real endpoint; returns the Cookie header value and the raw Set-Cookie. */
export async function signIn(baseUrl: string, email: string, password: string) {
  const res = await fetch(`${baseUrl}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  const setCookie = res.headers.getSetCookie();
  const cookie = setCookie.map((c) => c.split(";")[0]).join("; ");
  return { status: res.status, cookie, setCookie };
}
