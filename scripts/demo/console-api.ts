/** The few console calls the demo makes, as the browser makes them: a session cookie and tRPC over HTTP. */
export class ConsoleApi {
  private cookie = "";
  constructor(private readonly baseUrl: string) {}

  async signIn(email: string, password: string): Promise<void> {
    const res = await fetch(`${this.baseUrl}/api/auth/sign-in/email`, {
      method: "POST",
      // fetch marks itself as a browser-style request, so better-auth's CSRF check wants an Origin.
      headers: { "content-type": "application/json", origin: this.baseUrl },
      body: JSON.stringify({ email, password }),
    });
    if (!res.ok) {
      const detail = ((await res.json().catch(() => ({}))) as { message?: string }).message ?? "";
      throw new Error(
        `sign-in as ${email} failed (${res.status} ${detail}); is FULCRUM_ADMIN_PASSWORD right?`,
      );
    }
    this.cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
  }

  async query<T>(path: string, input?: unknown): Promise<T> {
    const qs = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;
    return this.unwrap<T>(
      path,
      await fetch(`${this.baseUrl}/api/trpc/${path}${qs}`, { headers: { cookie: this.cookie } }),
    );
  }

  async mutate<T>(path: string, input: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}/api/trpc/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: this.cookie },
      body: JSON.stringify({ json: input }),
    });
    return this.unwrap<T>(path, res);
  }

  private async unwrap<T>(path: string, res: Response): Promise<T> {
    const body = (await res.json()) as {
      result?: { data?: { json?: T } };
      error?: { json?: { message?: string } };
    };
    if (!res.ok) throw new Error(`${path}: ${body.error?.json?.message ?? res.status}`);
    return body.result?.data?.json as T;
  }
}
