import { TLS_MIN_VERSIONS, type TlsMinVersion } from "@fulcrum/protocol";
import { SelectField } from "./form";

/**
 * "Minimum TLS version" of a listener (clients) or of a pool (backends): the
 * protocol's versions, TLS 1.2 unless the stored value says otherwise.
 */
export function TlsMinVersionField({
  name,
  value,
  error,
}: {
  name: string;
  value: TlsMinVersion | undefined;
  error: string | undefined;
}) {
  return (
    <SelectField label="Minimum TLS version" name={name} defaultValue={value ?? "TLSv1.2"} error={error}>
      {TLS_MIN_VERSIONS.map((v) => (
        <option key={v} value={v}>
          {v.replace("TLSv", "TLS ")}
        </option>
      ))}
    </SelectField>
  );
}
