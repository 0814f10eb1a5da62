"use client";

import type { RedirectToHttps } from "@fulcrum/protocol";
import { useState } from "react";
import { numberOrUndefined } from "../../lib/validate";
import { CheckboxField, SelectField, TextField } from "../form";

export const HTTPS_REDIRECT_FIELDS = [
  "settings.redirectToHttps",
  "settings.redirectToHttps.status",
  "settings.redirectToHttps.port",
] as const;

/**
 * The form's redirect as `settings.redirectToHttps` (absent: off). Only a plain
 * listener redirects, so a listener whose TLS box is ticked sends none; an empty
 * port goes as NaN so the schema names it instead of keeping an old value.
 */
export function httpsRedirectFromForm(f: FormData): { redirectToHttps?: RedirectToHttps } {
  if (f.get("redirectToHttps") !== "on" || f.get("tlsEnabled") === "on") return {};
  return {
    redirectToHttps: {
      status: Number(f.get("redirectStatus") ?? 308) as 301 | 308,
      port: numberOrUndefined(f.get("redirectPort")) ?? Number.NaN,
    },
  };
}

/** "Redirect every request to HTTPS" on a plain HTTP listener: status and the HTTPS port. */
export function HttpsRedirectFields({
  value,
  errors,
}: {
  value: RedirectToHttps | null;
  errors: Record<string, string>;
}) {
  const [on, setOn] = useState(value !== null);
  return (
    <div className="mt-3 space-y-3">
      <CheckboxField
        label="Redirect every request to HTTPS"
        name="redirectToHttps"
        checked={on}
        onChange={(e) => setOn(e.currentTarget.checked)}
        hint="Answers with the same host, path and query on https://; nothing is proxied."
      />
      {errors["settings.redirectToHttps"] ? (
        <p role="alert" className="text-xs text-red-600 dark:text-red-400">
          {errors["settings.redirectToHttps"]}
        </p>
      ) : null}
      {on ? (
        <div className="grid gap-3 sm:grid-cols-3">
          <SelectField
            label="Redirect status"
            name="redirectStatus"
            defaultValue={String(value?.status ?? 308)}
            error={errors["settings.redirectToHttps.status"]}
            hint="308 keeps the method and body; 301 suits old clients."
          >
            <option value="308">308 Permanent Redirect</option>
            <option value="301">301 Moved Permanently</option>
          </SelectField>
          <TextField
            label="HTTPS port"
            name="redirectPort"
            type="number"
            min={1}
            max={65535}
            defaultValue={value?.port ?? 443}
            error={errors["settings.redirectToHttps.port"]}
            hint="Left out of the Location when 443."
          />
        </div>
      ) : null}
    </div>
  );
}
