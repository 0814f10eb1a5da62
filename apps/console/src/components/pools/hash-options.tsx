"use client";

import { useState } from "react";
import { SelectField, TextField } from "../form";

export type HashKey = "client_ip" | "header" | "cookie" | "path";
export interface HashOptions {
  key: HashKey;
  keyName?: string;
  algorithm: "ring" | "maglev";
}

export function readHashOptions(value: unknown): HashOptions {
  const v = (typeof value === "object" && value !== null ? value : {}) as Partial<HashOptions>;
  return {
    key: v.key ?? "client_ip",
    ...(v.keyName ? { keyName: v.keyName } : {}),
    // Matches the agent's default (packages/balancer).
    algorithm: v.algorithm === "maglev" ? "maglev" : "ring",
  };
}

export function hashOptionsFromForm(f: FormData): HashOptions {
  const key = String(f.get("hashKey") ?? "client_ip") as HashKey;
  const keyName = String(f.get("hashKeyName") ?? "").trim();
  return {
    key,
    ...(key === "header" || key === "cookie" ? { keyName } : {}),
    algorithm: f.get("hashAlgorithm") === "maglev" ? "maglev" : "ring",
  };
}

/** The key a consistent-hash pool hashes on, and the table it uses. */
export function HashOptionsFields({ value, error }: { value: HashOptions; error?: string | undefined }) {
  const [key, setKey] = useState<HashKey>(value.key);
  return (
    <div className="grid gap-3 sm:grid-cols-3">
      <SelectField
        label="Hash on"
        name="hashKey"
        value={key}
        onChange={(e) => setKey(e.target.value as HashKey)}
        hint="Requests with the same value reach the same backend while the pool is unchanged."
      >
        <option value="client_ip">Client IP</option>
        <option value="header">A request header</option>
        <option value="cookie">A cookie</option>
        <option value="path">The URL path</option>
      </SelectField>
      <TextField
        label={key === "cookie" ? "Cookie to hash" : "Header to hash"}
        name="hashKeyName"
        defaultValue={value.keyName ?? ""}
        disabled={key !== "header" && key !== "cookie"}
        placeholder={key === "cookie" ? "session" : "x-user-id"}
        error={error}
      />
      <SelectField
        label="Hash table"
        name="hashAlgorithm"
        defaultValue={value.algorithm}
        hint="Maglev spreads keys more evenly; a ring moves fewer keys when backends change."
      >
        <option value="ring">Ring</option>
        <option value="maglev">Maglev</option>
      </SelectField>
    </div>
  );
}
