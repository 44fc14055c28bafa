(() => {
  const el = document.getElementById('passkey');
  if (!el || !window.PublicKeyCredential) return;
  el.hidden = false;
  const bytes = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const text = (b) => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const api = async (method, path, body) => {
    const r = await fetch('/api/experience' + path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body || {}) });
    const j = r.status === 204 ? {} : await r.json();
    if (!r.ok) throw new Error(j.code);
    return j;
  };
  const show = () => { const p = document.getElementById('passkey-error'); p.textContent = el.dataset.error; p.hidden = false; };
  const agree = document.getElementById('agree');
  const agreed = () => new Promise((ok) => {
    if (!agree || agree.checked) return ok();
    agree.reportValidity();
    const on = () => { if (agree.checked) { agree.removeEventListener('change', on); ok(); } };
    agree.addEventListener('change', on);
  });
  const post = (verificationId, more) => {
    const f = document.createElement('form');
    f.method = 'post';
    f.action = el.dataset.action;
    const fields = [['_csrf', el.dataset.csrf], ['verificationId', verificationId], ...(more || [])];
    if (agree && agree.checked) fields.push(['agree', 'yes']);
    for (const [k, v] of fields) {
      const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.append(i);
    }
    document.body.append(f);
    f.submit();
  };
  const json = (c) => {
    const r = c.response;
    const response = r.attestationObject
      ? { clientDataJSON: text(r.clientDataJSON), attestationObject: text(r.attestationObject), transports: r.getTransports ? r.getTransports() : [] }
      : { clientDataJSON: text(r.clientDataJSON), authenticatorData: text(r.authenticatorData), signature: text(r.signature), userHandle: r.userHandle ? text(r.userHandle) : undefined };
    return { id: c.id, rawId: text(c.rawId), type: c.type, response, clientExtensionResults: {}, authenticatorAttachment: c.authenticatorAttachment || undefined };
  };
  const list = (l) => (l || []).map((c) => ({ ...c, id: bytes(c.id) }));
  let pending;
  const get = async (o, mediation) => {
    if (pending) pending.abort();
    pending = new AbortController();
    return navigator.credentials.get({
      mediation, signal: pending.signal,
      publicKey: { ...o, challenge: bytes(o.challenge), allowCredentials: list(o.allowCredentials) },
    });
  };
  let busy = false;
  const signIn = async (mediation) => {
    const { authenticationOptions: o } = await api('POST', '/preflight/sign-in-passkey/authentication');
    const c = await get(o, mediation);
    if (busy) return;
    busy = true;
    try {
      await agreed();
      await api('PUT', '', { interactionEvent: 'SignIn' });
      const { verificationId } = await api('POST', '/verification/sign-in-passkey/authentication/verify', { payload: json(c) });
      post(verificationId);
    } catch (e) {
      busy = false;
      throw e;
    }
  };
  const verify = async () => {
    const { verificationId, authenticationOptions: o } = await api('POST', '/verification/web-authn/authentication');
    const c = await get(o);
    await api('POST', '/verification/web-authn/authentication/verify', { verificationId, payload: json(c) });
    post(verificationId);
  };
  const create = (o) => navigator.credentials.create({
    publicKey: { ...o, challenge: bytes(o.challenge), user: { ...o.user, id: bytes(o.user.id) }, excludeCredentials: list(o.excludeCredentials) },
  });
  const bind = async () => {
    const { verificationId, registrationOptions: o } = await api('POST', '/verification/web-authn/registration');
    const c = await create(o);
    await api('POST', '/verification/web-authn/registration/verify', { verificationId, payload: json(c) });
    post(verificationId);
  };
  // The account page: the options came with the page; the answer goes back as a form.
  const account = async () => {
    const c = await create(JSON.parse(el.dataset.options));
    const d = el.dataset;
    post('', [['action', 'passkey'], ['record', d.record], ['proof', d.proof], ['payload', JSON.stringify(json(c))]]);
  };
  const run = { 'sign-in': () => signIn(), verify, bind, account }[el.dataset.mode];
  const button = document.getElementById('passkey-button');
  if (button && run) button.addEventListener('click', () => busy || run().catch(show));
  if (el.dataset.mode === 'sign-in' && el.dataset.autofill === 'true' && PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then((ok) => ok && signIn('conditional'))
      .catch((e) => e && e.name !== 'AbortError' && show());
  }
})();
