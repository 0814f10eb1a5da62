/** A policy's options failed validation; the agent should refuse (NACK) the snapshot. */
export class PolicyOptionsError extends Error {
  readonly code = "policy_options_invalid";
  constructor(
    readonly policy: string,
    message: string,
  ) {
    super(`${policy}: ${message}`);
    this.name = "PolicyOptionsError";
  }
}

type Raw = Readonly<Record<string, unknown>> | undefined;

export function enumOption<T extends string>(
  policy: string,
  raw: Raw,
  name: string,
  values: readonly T[],
  fallback: T,
): T {
  const v = raw?.[name];
  if (v === undefined || v === null) return fallback;
  if (typeof v === "string" && (values as readonly string[]).includes(v)) return v as T;
  throw new PolicyOptionsError(
    policy,
    `option ${name} must be one of ${values.join(", ")} (got ${JSON.stringify(v)})`,
  );
}

export function stringOption(policy: string, raw: Raw, name: string): string | undefined {
  const v = raw?.[name];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v === "string") return v;
  throw new PolicyOptionsError(policy, `option ${name} must be a string`);
}
