"use client";

import {
  type DnsListenerSettings,
  dnsListenerSettingsSchema,
  type ListenerSettings,
  listenerSettingsSchema,
} from "@fulcrum/protocol";
import { numberOrUndefined } from "../../lib/validate";
import { CheckboxField, SelectField, TextField } from "../form";
import { httpsRedirectFromForm } from "./listener-https-redirect-fields";

export function readListenerSettings(value: unknown): ListenerSettings {
  return listenerSettingsSchema.catch(listenerSettingsSchema.parse({})).parse(value ?? {});
}

export function listenerSettingsFromForm(f: FormData, before: ListenerSettings): ListenerSettings {
  const n = (key: string, fallback: number) => numberOrUndefined(f.get(key)) ?? fallback;
  return {
    trustForwarded: f.get("trustForwarded") === "on",
    maxConnections: n("maxConnections", before.maxConnections),
    maxHeaderBytes: n("maxHeaderBytes", before.maxHeaderBytes),
    timeouts: {
      connectMs: n("connectMs", before.timeouts.connectMs),
      headMs: n("headMs", before.timeouts.headMs),
      idleMs: n("idleMs", before.timeouts.idleMs),
      responseMs: n("responseMs", before.timeouts.responseMs),
      keepAliveMs: n("keepAliveMs", before.timeouts.keepAliveMs),
      bodyMs: n("bodyMs", before.timeouts.bodyMs),
    },
    maxBodyBytes: n("maxBodyBytes", before.maxBodyBytes),
    minBodyBytesPerSecond: n("minBodyBytesPerSecond", before.minBodyBytesPerSecond),
    // Read from the TLS section, whose box it shares (listener-https-redirect-fields.tsx).
    ...httpsRedirectFromForm(f),
  };
}

export const LISTENER_SETTINGS_FIELDS = [
  "settings.trustForwarded",
  "settings.maxConnections",
  "settings.maxHeaderBytes",
  "settings.timeouts.connectMs",
  "settings.timeouts.headMs",
  "settings.timeouts.idleMs",
  "settings.timeouts.responseMs",
  "settings.timeouts.keepAliveMs",
  "settings.timeouts.bodyMs",
  "settings.maxBodyBytes",
  "settings.minBodyBytesPerSecond",
] as const;

/** Timeouts and limits, folded away: the defaults suit most listeners. */
export function ListenerSettingsFields({
  value,
  errors,
}: {
  value: ListenerSettings;
  errors: Record<string, string>;
}) {
  const t = value.timeouts;
  const open = LISTENER_SETTINGS_FIELDS.some((f) => errors[f]);
  return (
    <details open={open} className="rounded-md border border-zinc-200 p-3 dark:border-zinc-800">
      <summary className="cursor-pointer text-[13px] font-medium text-zinc-700 dark:text-zinc-300">
        Timeouts and limits
      </summary>
      <div className="mt-3 grid gap-3 sm:grid-cols-2 lg:grid-cols-4">
        <TextField
          label="Connect timeout (ms)"
          name="connectMs"
          type="number"
          min={1}
          defaultValue={t.connectMs}
          error={errors["settings.timeouts.connectMs"]}
          hint="To open a connection to a backend."
        />
        <TextField
          label="Request head timeout (ms)"
          name="headMs"
          type="number"
          min={1}
          defaultValue={t.headMs}
          error={errors["settings.timeouts.headMs"]}
          hint="For a client to send its request head; guards against slowloris."
        />
        <TextField
          label="Response timeout (ms)"
          name="responseMs"
          type="number"
          min={1}
          defaultValue={t.responseMs}
          error={errors["settings.timeouts.responseMs"]}
          hint="For a backend to start answering; then 504."
        />
        <TextField
          label="Idle timeout (ms)"
          name="idleMs"
          type="number"
          min={1}
          defaultValue={t.idleMs}
          error={errors["settings.timeouts.idleMs"]}
          hint="Closes connections with no traffic for this long."
        />
        <TextField
          label="Keep-alive timeout (ms)"
          name="keepAliveMs"
          type="number"
          min={1}
          defaultValue={t.keepAliveMs}
          error={errors["settings.timeouts.keepAliveMs"]}
          hint="HTTP: closes a client connection idle between requests."
        />
        <TextField
          label="Request body timeout (ms)"
          name="bodyMs"
          type="number"
          min={1}
          defaultValue={t.bodyMs}
          error={errors["settings.timeouts.bodyMs"]}
          hint="HTTP: longest pause between two reads of a request body; then 408."
        />
        <TextField
          label="Max client connections"
          name="maxConnections"
          type="number"
          min={1}
          defaultValue={value.maxConnections}
          error={errors["settings.maxConnections"]}
          hint="Further connections are refused."
        />
        <TextField
          label="Max request head bytes"
          name="maxHeaderBytes"
          type="number"
          min={1024}
          defaultValue={value.maxHeaderBytes}
          error={errors["settings.maxHeaderBytes"]}
          hint="Larger request heads get 431."
        />
        <TextField
          label="Max request body bytes"
          name="maxBodyBytes"
          type="number"
          min={0}
          defaultValue={value.maxBodyBytes}
          error={errors["settings.maxBodyBytes"]}
          hint="HTTP: larger request bodies get 413; 0 = no limit."
        />
        <TextField
          label="Min body rate (bytes/s)"
          name="minBodyBytesPerSecond"
          type="number"
          min={0}
          defaultValue={value.minBodyBytesPerSecond}
          error={errors["settings.minBodyBytesPerSecond"]}
          hint="HTTP: a request body slower than this after 5 s is cut (408); 0 = off."
        />
        <CheckboxField
          label="Trust X-Forwarded-* from clients"
          name="trustForwarded"
          defaultChecked={value.trustForwarded}
          hint="Append to them instead of overwriting: only behind another trusted proxy."
          className="lg:col-span-2"
        />
      </div>
    </details>
  );
}

export function readDnsSettings(value: unknown): DnsListenerSettings {
  return dnsListenerSettingsSchema.catch(dnsListenerSettingsSchema.parse({})).parse(value ?? {});
}

/** Empty number fields go to the schema as empty, so it says what is missing instead of keeping old values. */
export function dnsSettingsFromForm(f: FormData): Record<string, unknown> {
  return {
    ttlSeconds: numberOrUndefined(f.get("ttlSeconds")),
    maxAnswers: numberOrUndefined(f.get("maxAnswers")),
    transport: String(f.get("transport") ?? "both"),
    maxConnections: numberOrUndefined(f.get("dnsMaxConnections")),
    tcpIdleMs: numberOrUndefined(f.get("tcpIdleMs")),
  };
}

export const DNS_SETTINGS_FIELDS = [
  "settings.ttlSeconds",
  "settings.maxAnswers",
  "settings.transport",
  "settings.maxConnections",
  "settings.tcpIdleMs",
] as const;

/** A DNS listener's answers: what the names answer with comes from its routes' pools. */
export function DnsSettingsFields({
  value,
  errors,
}: {
  value: DnsListenerSettings;
  errors: Record<string, string>;
}) {
  return (
    <fieldset className="rounded-md border border-zinc-200 p-3 dark:border-zinc-800">
      <legend className="px-1 text-[13px] font-medium text-zinc-700 dark:text-zinc-300">DNS answers</legend>
      <p className="mb-3 text-xs text-zinc-500 dark:text-zinc-400">
        Add a route per name to answer for (www.example.com, or *.example.com for every name below it).
        Answers hold the healthy backends&apos; addresses chosen by the pool&apos;s policy; a backend that
        fails its checks or drains leaves the answers at once.
      </p>
      <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-5">
        <TextField
          label="TTL (seconds)"
          name="ttlSeconds"
          type="number"
          min={0}
          max={300}
          defaultValue={value.ttlSeconds}
          error={errors["settings.ttlSeconds"]}
          hint="How long resolvers may cache an answer; keep it short so a dead backend drops out fast."
        />
        <TextField
          label="Addresses per answer"
          name="maxAnswers"
          type="number"
          min={1}
          max={16}
          defaultValue={value.maxAnswers}
          error={errors["settings.maxAnswers"]}
          hint="1 lets the policy place every client; more gives clients fallbacks."
        />
        <SelectField
          label="Transport"
          name="transport"
          defaultValue={value.transport}
          error={errors["settings.transport"]}
          hint="Resolvers use UDP and retry over TCP for large answers."
        >
          <option value="both">UDP and TCP</option>
          <option value="udp">UDP only</option>
          <option value="tcp">TCP only</option>
        </SelectField>
        <TextField
          label="Max TCP connections"
          name="dnsMaxConnections"
          type="number"
          min={1}
          defaultValue={value.maxConnections}
          error={errors["settings.maxConnections"]}
          hint="Further TCP connections are refused."
        />
        <TextField
          label="TCP idle timeout (ms)"
          name="tcpIdleMs"
          type="number"
          min={100}
          defaultValue={value.tcpIdleMs}
          error={errors["settings.tcpIdleMs"]}
          hint="Closes TCP connections with no query for this long."
        />
      </div>
    </fieldset>
  );
}
