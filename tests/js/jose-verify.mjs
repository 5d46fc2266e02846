// Independent verifier for differential tests: jose's jwtVerify with the same policy as agw.
// usage: node jose-verify.mjs <spec.json>
//   spec: { jwks: {...} | jwks_url: "...", issuer, audience: [..], leeway, now?, cases: [{name, token}] }
// prints one JSON line per case: {"name": ..., "ok": true|false, "error": "..."}
import { readFileSync } from 'node:fs';
import * as jose from 'jose';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const keys = spec.jwks_url
  ? jose.createRemoteJWKSet(new URL(spec.jwks_url))
  : jose.createLocalJWKSet(spec.jwks);
const opts = {
  issuer: spec.issuer,
  clockTolerance: spec.leeway ?? 60,
  requiredClaims: ['exp'],
  // the algorithms agw accepts: asymmetric only
  algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'],
};
if (spec.audience && spec.audience.length) opts.audience = spec.audience;
if (spec.now) opts.currentDate = new Date(spec.now * 1000);
for (const c of spec.cases) {
  try {
    await jose.jwtVerify(c.token, keys, opts);
    console.log(JSON.stringify({ name: c.name, ok: true }));
  } catch (e) {
    console.log(JSON.stringify({ name: c.name, ok: false, error: `${e.code || e.name}: ${e.message}` }));
  }
}
