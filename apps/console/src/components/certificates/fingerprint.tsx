/**
 * "ab12cd34…ef56": enough to compare with `openssl x509 -fingerprint -sha256`,
 * the whole value on hover. `of` says what was hashed when it is not the certificate.
 */
export function Fingerprint({ value, of }: { value: string; of?: string }) {
  return (
    <span className="font-mono text-xs" title={`SHA-256 ${of ? `of ${of} ` : ""}${value}`}>
      {value.slice(0, 8)}…{value.slice(-4)}
    </span>
  );
}
