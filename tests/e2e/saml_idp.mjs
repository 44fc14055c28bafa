// A SAML 2.0 identity provider for the end-to-end tests, built on samlify.
//
// startSamlIdp() serves the HTTP-Redirect SSO endpoint and IdP-initiated
// responses; signedResponse() makes a SAMLResponse directly, so a test can
// craft expired, wrong-audience, wrong-destination or rogue-signed ones.
// Responses are HTTP-POST binding: the Assertion (not the Response) carries an
// enveloped RSA-SHA256 / SHA-256 / exclusive-C14N signature, placed right
// after the Assertion's Issuer.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { inflateRawSync } from 'node:zlib';
import samlify from 'samlify';

// The real schema validators need Java or WASM; the SP under test is ours.
samlify.setSchemaValidator({ validate: () => Promise.resolve('skipped') });

const FIXTURES = new URL('../fixtures/saml/', import.meta.url);
const KEYS = {
  idp: {
    key: readFileSync(new URL('idp2.key', FIXTURES), 'utf8'),
    cert: readFileSync(new URL('idp2.crt', FIXTURES), 'utf8'),
  },
  rogue: {
    key: readFileSync(new URL('rogue.key', FIXTURES), 'utf8'),
    cert: readFileSync(new URL('rogue.crt', FIXTURES), 'utf8'),
  },
};

const C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const NAMEID_PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
const ATTR_BASIC = 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic';
const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const LIFETIME_MS = 5 * 60 * 1000;

/** The base64 DER body of a PEM certificate (no armour, no newlines). */
function pemBody(pem) {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

function escapeHtml(s) {
  return String(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** The attributes sent: `email` and `name`, each only when the user has it. */
function attributesOf(user) {
  return ['email', 'name']
    .filter((n) => user[n] !== undefined && user[n] !== null)
    .map((n) => ({
      name: n,
      valueTag: n,
      nameFormat: ATTR_BASIC,
      valueXsiType: 'xs:string',
    }));
}

/** IdP metadata: a signing KeyDescriptor and an HTTP-Redirect SingleSignOnService. */
function idpMetadata({ entityId, ssoUrl, certificateBase64 }) {
  const attr = (s) => escapeHtml(s);
  return (
    '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ' +
    `xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${attr(entityId)}">` +
    '<md:IDPSSODescriptor WantAuthnRequestsSigned="false" ' +
    'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">' +
    '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>' +
    `<ds:X509Certificate>${certificateBase64}</ds:X509Certificate>` +
    '</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>' +
    `<md:NameIDFormat>${NAMEID_PERSISTENT}</md:NameIDFormat>` +
    `<md:SingleSignOnService Binding="${REDIRECT}" Location="${attr(ssoUrl)}"/>` +
    '</md:IDPSSODescriptor></md:EntityDescriptor>'
  );
}

/** samlify entities for one response: the IdP (signing with `key`) and the SP it answers. */
function entities({ issuer, ssoUrl, audience, acsUrl, user, key }) {
  const pair = KEYS[key];
  if (!pair) throw new Error(`unknown key ${key}: use 'idp' or 'rogue'`);
  const attributes = attributesOf(user ?? {});
  const idp = samlify.IdentityProvider({
    metadata: idpMetadata({
      entityId: issuer,
      ssoUrl: ssoUrl ?? `${issuer}/sso`,
      certificateBase64: pemBody(pair.cert),
    }),
    privateKey: pair.key,
    requestSignatureAlgorithm: RSA_SHA256,
    isAssertionEncrypted: false,
    // With no attribute at all, {AttributeStatement} is replaced by nothing
    // (an empty AttributeStatement would be schema-invalid).
    ...(attributes.length > 0 && {
      loginResponseTemplate: {
        context: samlify.SamlLib.defaultLoginResponseTemplate.context,
        attributes,
      },
    }),
  });
  const sp = samlify.ServiceProvider({
    entityID: audience,
    assertionConsumerService: [{ Binding: POST, Location: acsUrl }],
    wantAssertionsSigned: true,
    wantMessageSigned: false,
    authnRequestsSigned: false,
    transformationAlgorithms: [ENVELOPED, C14N],
  });
  return { idp, sp };
}

/**
 * A base64 SAMLResponse (HTTP-POST binding) with a signed Assertion.
 *
 * inResponseTo: the AuthnRequest ID, or undefined for an IdP-initiated
 *   response (then no InResponseTo attribute appears anywhere).
 * audience: the SP entity ID put in the Audience.
 * acsUrl: Response Destination and SubjectConfirmationData Recipient.
 * destination: overrides the Response Destination only (default acsUrl).
 * issuer: the IdP entity ID, in both Issuers.
 * user: { id, email, name }; NameID = id, attributes email and name.
 * notOnOrAfter: a Date for SubjectConfirmationData and Conditions
 *   NotOnOrAfter (default: five minutes ahead); a past one makes an expired
 *   response (IssueInstant and NotBefore are then five minutes before it).
 * key: 'idp' (tests/fixtures/saml/idp2.key) or 'rogue' (rogue.key).
 * ssoUrl: only for the IdP's own metadata (default `${issuer}/sso`).
 * Resolves to the base64 text; signedResponseXml() gives the XML itself.
 */
export async function signedResponse(options) {
  return Buffer.from(await signedResponseXml(options), 'utf8').toString('base64');
}

/** As signedResponse, but the decoded XML text. */
export async function signedResponseXml({
  inResponseTo,
  audience,
  acsUrl,
  destination,
  issuer,
  user,
  notOnOrAfter,
  key = 'idp',
  ssoUrl,
}) {
  if (!audience || !acsUrl || !issuer || !user || user.id === undefined) {
    throw new Error('signedResponse needs audience, acsUrl, issuer and user.id');
  }
  const { idp, sp } = entities({ issuer, ssoUrl, audience, acsUrl, user, key });
  const now = Date.now();
  const until = notOnOrAfter ? notOnOrAfter.getTime() : now + LIFETIME_MS;
  const issued = Math.min(now, until - LIFETIME_MS);
  const tags = (template) => {
    const values = {
      ID: idp.entitySetting.generateID(),
      AssertionID: idp.entitySetting.generateID(),
      Destination: destination ?? acsUrl,
      Audience: audience,
      SubjectRecipient: acsUrl,
      Issuer: issuer,
      IssueInstant: new Date(issued).toISOString(),
      StatusCode: SUCCESS,
      ConditionsNotBefore: new Date(issued).toISOString(),
      ConditionsNotOnOrAfter: new Date(until).toISOString(),
      SubjectConfirmationDataNotOnOrAfter: new Date(until).toISOString(),
      NameIDFormat: NAMEID_PERSISTENT,
      NameID: String(user.id),
      // undefined drops the attribute (Response and SubjectConfirmationData).
      InResponseTo: inResponseTo ?? undefined,
      AuthnStatement: '',
      AttributeStatement: '',
      attrEmail: user.email,
      attrName: user.name,
    };
    return { id: values.ID, context: samlify.SamlLib.replaceTagsByValue(template, values) };
  };
  const requestInfo = inResponseTo ? { extract: { request: { id: inResponseTo } } } : {};
  const { context } = await idp.createLoginResponse(sp, requestInfo, 'post', user, {
    customTagReplacement: tags,
  });
  return Buffer.from(context, 'base64').toString('utf8');
}

/** Reads an HTTP-Redirect binding SAMLRequest (raw DEFLATE, base64). */
function inflateRequest(samlRequest) {
  return inflateRawSync(Buffer.from(samlRequest, 'base64')).toString('utf8');
}

function autoPostPage(acsUrl, samlResponse, relayState) {
  const relay =
    relayState === undefined || relayState === null
      ? ''
      : `<input type="hidden" name="RelayState" value="${escapeHtml(relayState)}"/>`;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>SAML test IdP</title></head>
<body>
<form method="post" action="${escapeHtml(acsUrl)}">
<input type="hidden" name="SAMLResponse" value="${escapeHtml(samlResponse)}"/>
${relay}
<noscript><button type="submit">Continue</button></noscript>
</form>
<script>document.forms[0].submit()</script>
</body></html>
`;
}

/**
 * Starts the IdP on 127.0.0.1:port.
 *
 * GET /sso?SAMLRequest=…&RelayState=… answers an auto-submitting form that
 * POSTs SAMLResponse (and RelayState, echoed) to acsUrl. The request is
 * refused with 400 when its Issuer is not spEntityId or its
 * AssertionConsumerServiceURL (if present) is not acsUrl.
 * GET /unsolicited answers the same for an IdP-initiated response (no
 * InResponseTo, no RelayState). GET /metadata serves metadataXml.
 *
 * The returned object's `user` may be reassigned between logins; `requests`
 * holds each received AuthnRequest XML, `responses` each produced Response XML.
 */
export async function startSamlIdp({ port, spEntityId, acsUrl, user }) {
  const base = `http://127.0.0.1:${port}`;
  const entityId = `${base}/idp`;
  const ssoUrl = `${base}/sso`;
  const certificatePem = KEYS.idp.cert;
  const requests = [];
  const responses = [];
  const { idp, sp } = entities({
    issuer: entityId,
    ssoUrl,
    audience: spEntityId,
    acsUrl,
    user,
    key: 'idp',
  });
  const metadataXml = idp.getMetadata();

  const state = {
    entityId,
    ssoUrl,
    certificatePem,
    certificateBase64: pemBody(certificatePem),
    metadataXml,
    requests,
    responses,
    user,
    hold: false,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  async function respond(res, inResponseTo, relayState) {
    const xml = await signedResponseXml({
      inResponseTo,
      audience: spEntityId,
      acsUrl,
      issuer: entityId,
      ssoUrl,
      user: state.user,
      key: 'idp',
    });
    responses.push(xml);
    const body = autoPostPage(acsUrl, Buffer.from(xml, 'utf8').toString('base64'), relayState);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(body);
  }

  function fail(res, status, message) {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`${message}\n`);
  }

  async function handle(req, res) {
    const url = new URL(req.url, base);
    if (req.method !== 'GET') return fail(res, 405, 'method not allowed');
    if (url.pathname === '/metadata') {
      res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' });
      return res.end(metadataXml);
    }
    if (url.pathname === '/unsolicited') return respond(res, undefined, undefined);
    if (url.pathname !== '/sso') return fail(res, 404, 'not found');

    const query = Object.fromEntries(url.searchParams);
    if (!query.SAMLRequest) return fail(res, 400, 'no SAMLRequest');
    let xml;
    try {
      xml = inflateRequest(query.SAMLRequest);
    } catch (e) {
      return fail(res, 400, `SAMLRequest is not raw DEFLATE in base64: ${e.message}`);
    }
    requests.push(xml);
    let parsed;
    try {
      // samlify re-reads the same query (base64 → inflateRawSync → XML).
      parsed = await idp.parseLoginRequest(sp, 'redirect', { query });
    } catch (e) {
      return fail(res, 400, `unreadable AuthnRequest: ${e.message ?? e}`);
    }
    const request = parsed.extract.request ?? {};
    if (!request.id) return fail(res, 400, 'the AuthnRequest has no ID');
    if (parsed.extract.issuer !== spEntityId) {
      return fail(res, 400, `unknown SP issuer ${parsed.extract.issuer}`);
    }
    const askedAcs = request.assertionConsumerServiceUrl;
    if (askedAcs !== undefined && askedAcs !== acsUrl) {
      return fail(res, 400, `AssertionConsumerServiceURL ${askedAcs} is not ${acsUrl}`);
    }
    if (state.hold) {
      // The test answers itself (crafted responses): the request is only recorded.
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      return res.end('held');
    }
    return respond(res, request.id, query.RelayState);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) fail(res, 500, `test IdP error: ${e.stack ?? e}`);
      else res.destroy();
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return state;
}
