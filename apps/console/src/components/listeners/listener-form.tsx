"use client";

import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import type { Listener } from "../../lib/api-types";
import { useInvalidateTopology } from "../../lib/invalidate";
import { useTRPC } from "../../lib/trpc";
import { mergeErrors, numberOrUndefined } from "../../lib/validate";
import { listenerInput, listenerUpdate } from "../../server/domain/schemas";
import { formChange, useDryRunSubmit } from "../changes/use-dry-run-submit";
import { FormActions, FormError, SelectField, TextField } from "../form";
import { Button } from "../ui";
import {
  LISTENER_HTTP2_FIELDS,
  ListenerHttp2Fields,
  listenerHttp2FromForm,
  readListenerHttp2,
} from "./listener-http2-fields";
import { HTTPS_REDIRECT_FIELDS } from "./listener-https-redirect-fields";
import {
  DNS_SETTINGS_FIELDS,
  DnsSettingsFields,
  dnsSettingsFromForm,
  LISTENER_SETTINGS_FIELDS,
  ListenerSettingsFields,
  listenerSettingsFromForm,
  readDnsSettings,
  readListenerSettings,
} from "./listener-settings-fields";
import {
  LISTENER_TLS_FIELDS,
  ListenerTlsFields,
  listenerTlsFromForm,
  readListenerTls,
} from "./listener-tls-fields";

const SHOWN = [
  "name",
  "protocol",
  "bindAddress",
  "port",
  ...LISTENER_SETTINGS_FIELDS,
  ...DNS_SETTINGS_FIELDS,
  ...LISTENER_TLS_FIELDS,
  ...LISTENER_HTTP2_FIELDS,
  ...HTTPS_REDIRECT_FIELDS,
] as const;

type Protocol = "http" | "tcp" | "dns";
const PROTOCOL_HINTS: Record<Protocol, string> = {
  http: "HTTP routes by host and path, and can proxy or redirect.",
  tcp: "TCP forwards bytes to the top route's pool.",
  dns: "DNS answers A/AAAA queries for its routes' names (UDP and TCP).",
};

export function ListenerForm({
  clusterId,
  listener,
  onDone,
}: {
  clusterId: string;
  listener?: Listener;
  onDone: () => void;
}) {
  const trpc = useTRPC();
  const invalidate = useInvalidateTopology();
  // Every save is dry-run first: effect and diff, then apply on confirm.
  const dryRun = useDryRunSubmit();
  const create = useMutation(trpc.listener.create.mutationOptions());
  const update = useMutation(trpc.listener.update.mutationOptions());
  const mutation = listener ? update : create;
  const [clientErrors, setClientErrors] = useState<Record<string, string> | null>(null);
  const errors = mergeErrors(clientErrors, mutation.error);
  const [protocol, setProtocol] = useState<Protocol>(listener?.protocol ?? "http");
  // Each protocol has its own settings: the stored ones only when the protocol is unchanged.
  const same = listener?.protocol === protocol;
  const settings0 = readListenerSettings(same ? listener?.settings : undefined);
  const dns0 = readDnsSettings(same ? listener?.settings : undefined);

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const base = {
      name: String(f.get("name") ?? ""),
      protocol,
      bindAddress: String(f.get("bindAddress") ?? "").trim() || "0.0.0.0",
      // Empty is NaN, a number the schema refuses ("Enter a port number."); ports are never strings.
      port: numberOrUndefined(f.get("port")) ?? Number.NaN,
      settings: protocol === "dns" ? dnsSettingsFromForm(f) : listenerSettingsFromForm(f, settings0),
      tls: protocol === "http" ? listenerTlsFromForm(f) : null,
      http2: protocol === "http" ? listenerHttp2FromForm(f) : null,
    };
    const saved = await dryRun.submit(
      listener
        ? formChange("listener.update", listenerUpdate, { id: listener.id, ...base }, update.mutateAsync)
        : formChange("listener.create", listenerInput, { clusterId, ...base }, create.mutateAsync),
      setClientErrors,
    );
    if (!saved) return;
    await invalidate();
    onDone();
  }

  return (
    <form onSubmit={onSubmit} noValidate className="space-y-4">
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-[minmax(0,1.3fr)_minmax(0,0.8fr)_minmax(0,1.2fr)_minmax(0,0.7fr)]">
        <TextField
          label="Name"
          name="name"
          defaultValue={listener?.name ?? ""}
          placeholder="public-https"
          autoFocus
          autoComplete="off"
          error={errors.name}
        />
        <SelectField
          label="Protocol"
          name="protocol"
          value={protocol}
          onChange={(e) => setProtocol(e.currentTarget.value as Protocol)}
          error={errors.protocol}
          hint={PROTOCOL_HINTS[protocol]}
        >
          <option value="http">HTTP</option>
          <option value="tcp">TCP</option>
          <option value="dns">DNS</option>
        </SelectField>
        <TextField
          label="Bind address"
          name="bindAddress"
          defaultValue={listener?.bindAddress ?? "0.0.0.0"}
          autoComplete="off"
          error={errors.bindAddress}
          hint="0.0.0.0 listens on every interface."
        />
        <TextField
          label="Port"
          name="port"
          type="number"
          min={1}
          max={65535}
          defaultValue={listener?.port ?? ""}
          placeholder={protocol === "dns" ? "53" : "80"}
          error={errors.port}
        />
      </div>
      {protocol === "dns" ? (
        <DnsSettingsFields key="dns" value={dns0} errors={errors} />
      ) : (
        <ListenerSettingsFields key="proxy" value={settings0} errors={errors} />
      )}
      {protocol === "http" ? (
        <ListenerTlsFields
          clusterId={clusterId}
          value={readListenerTls(listener?.tls)}
          redirect={settings0.redirectToHttps ?? null}
          errors={errors}
        />
      ) : null}
      {protocol === "http" ? (
        <ListenerHttp2Fields value={readListenerHttp2(listener?.http2)} errors={errors} />
      ) : null}
      <FormError error={mutation.error} fields={errors} shown={SHOWN} />
      <FormActions>
        <Button onClick={onDone}>Cancel</Button>
        <Button type="submit" variant="primary" disabled={mutation.isPending}>
          {mutation.isPending ? "Saving…" : listener ? "Save listener" : "Create listener"}
        </Button>
      </FormActions>
      {dryRun.dialog}
    </form>
  );
}
