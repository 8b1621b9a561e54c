// New host: RegisterHost, then the host key (shown once) and the installer command to copy,
// with the installer link's expiry counting down.

import { useState } from 'preact/hooks';
import { api } from '../lib/api';
import { useAction } from '../lib/hooks';
import { formatDateTime, tsDate } from '../lib/format';
import { href } from '../lib/route';
import type { Host, InstallerToken } from '../gen/codexcentral/fleet/v1/fleet_pb';
import { Card, Countdown, ErrorNote, Field, Notice, PageHeader, SecretBox } from '../components/ui';

export function InstallerResult({ host, apiKey, installer, rotated }: { host?: Host; apiKey: string; installer?: InstallerToken; rotated?: boolean }) {
  const expires = tsDate(installer?.expiresAt);
  return (
    <Card title={rotated ? 'New key issued' : 'Host registered'} class="result">
      <Notice kind="ok">
        {rotated ? 'The old key no longer works.' : 'Registered'} {host && <a href={href('hosts', host.id)}>{host.fqdn}</a>}. The key and the
        installer command are shown only now.
      </Notice>
      {installer && (
        <>
          <SecretBox label="Installer command" value={installer.command} testId="installer-command" />
          <p class="small">
            Run it on the host. The link works once and expires in <Countdown until={expires} /> ({formatDateTime(expires)}).
          </p>
        </>
      )}
      <SecretBox label="Host key" value={apiKey} testId="host-key" />
    </Card>
  );
}

export function NewHost() {
  const [fqdn, setFqdn] = useState('');
  const [secure, setSecure] = useState(true);
  const [vip, setVip] = useState(false);
  const [temporary, setTemporary] = useState(false);
  const [curlInsecure, setCurlInsecure] = useState(false);
  const [rotate, setRotate] = useState(false);
  const [ttlMinutes, setTtlMinutes] = useState(30);
  const act = useAction();
  const [result, setResult] = useState<{ host?: Host; apiKey: string; installer?: InstallerToken; created: boolean }>();

  const submit = async (e: Event) => {
    e.preventDefault();
    const r = await act.run(() =>
      api.fleet.registerHost({
        fqdn: fqdn.trim(),
        secure,
        vip,
        temporary,
        curlInsecure,
        rotate,
        installerTtlSeconds: Math.round(ttlMinutes * 60),
      }),
    );
    if (r) setResult({ host: r.host, apiKey: r.apiKey, installer: r.installer, created: r.created });
  };

  const check = (id: string, label: string, value: boolean, set: (v: boolean) => void, hint?: string) => (
    <div class="switch-row">
      <input id={id} type="checkbox" checked={value} onChange={(e) => set((e.currentTarget as HTMLInputElement).checked)} />
      <label for={id}>{label}</label>
      {hint && <span class="muted small">{hint}</span>}
    </div>
  );

  return (
    <div>
      <PageHeader title="New host">
        <a href={href('hosts')}>← Hosts</a>
      </PageHeader>
      {result ? (
        <>
          <InstallerResult host={result.host} apiKey={result.apiKey} installer={result.installer} rotated={!result.created} />
          <p>
            <button
              type="button"
              class="secondary"
              onClick={() => {
                setResult(undefined);
                setFqdn('');
              }}
            >
              Register another host
            </button>
          </p>
        </>
      ) : (
        <Card>
          <form class="form" onSubmit={submit}>
            <Field label="Host name (fqdn)">
              {(id) => (
                <input
                  id={id}
                  type="text"
                  required
                  maxLength={255}
                  autocomplete="off"
                  placeholder="build-01.example.com"
                  value={fqdn}
                  onInput={(e) => setFqdn((e.currentTarget as HTMLInputElement).value)}
                />
              )}
            </Field>
            {check('nh-secure', 'Secure host', secure, setSecure, 'insecure hosts need an open access window')}
            {check('nh-vip', 'VIP', vip, setVip, 'exempt from quota hard failure')}
            {check('nh-temp', 'Temporary', temporary, setTemporary, 'expires after 2 h unused')}
            {check('nh-curl', 'Skip TLS verification (curl -k)', curlInsecure, setCurlInsecure)}
            {check('nh-rotate', 'If the name exists, rotate its key', rotate, setRotate)}
            <Field label="Installer link lifetime (minutes)">
              {(id) => (
                <input
                  id={id}
                  type="number"
                  min={1}
                  max={1440}
                  value={ttlMinutes}
                  onInput={(e) => setTtlMinutes(Number((e.currentTarget as HTMLInputElement).value) || 30)}
                />
              )}
            </Field>
            <ErrorNote message={act.error} />
            <button type="submit" class="primary" disabled={act.busy || !fqdn.trim()}>
              {act.busy ? 'Registering…' : 'Register host'}
            </button>
          </form>
        </Card>
      )}
    </div>
  );
}
