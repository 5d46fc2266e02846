//! Self-tests of the manifest validator in `common::crd`: it must accept what the API server
//! accepts and reject, with the CRD's own words, what it rejects; otherwise tests that rely on it
//! prove nothing.

mod common;

use common::crd::{self, Crds};
use serde_json::{json, Value};

fn gateway() -> Value {
    json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "agentgateway", "namespace": "default"},
        "spec": {
            "gatewayClassName": "agentgateway",
            "listeners": [{"name": "http", "port": 3000, "protocol": "HTTP"}]
        }
    })
}

fn route() -> Value {
    json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "mcp", "namespace": "default"},
        "spec": {
            "parentRefs": [{"name": "agentgateway", "sectionName": "http"}],
            "rules": [{
                "matches": [{"path": {"type": "PathPrefix", "value": "/mcp"}}],
                "backendRefs": [{
                    "group": "agentgateway.dev",
                    "kind": "AgentgatewayBackend",
                    "name": "mcp"
                }]
            }]
        }
    })
}

fn backend() -> Value {
    json!({
        "apiVersion": "agentgateway.dev/v1alpha1",
        "kind": "AgentgatewayBackend",
        "metadata": {"name": "mcp", "namespace": "default"},
        "spec": {
            "mcp": {
                "targets": [{
                    "name": "everything",
                    "static": {"host": "mcp.example.com", "port": 8080, "protocol": "StreamableHTTP"}
                }]
            }
        }
    })
}

fn policy() -> Value {
    json!({
        "apiVersion": "agentgateway.dev/v1alpha1",
        "kind": "AgentgatewayPolicy",
        "metadata": {"name": "mcp-auth", "namespace": "default"},
        "spec": {
            "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "mcp"}],
            "traffic": {
                "jwtAuthentication": {
                    "providers": [{
                        "issuer": "https://example.okta.com/oauth2/default",
                        "audiences": ["https://gateway.example.com/mcp"],
                        "jwks": {"remote": {
                            "url": "https://example.okta.com/oauth2/default/v1/keys",
                            "cacheDuration": "5m"
                        }}
                    }],
                    "mcp": {
                        "provider": "Okta",
                        "resourceMetadata": {
                            "resource": "https://gateway.example.com/mcp",
                            "scopesSupported": ["mcp:tools"],
                            "bearerMethodsSupported": ["header"]
                        }
                    }
                }
            }
        }
    })
}

fn secret() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "okta-client", "namespace": "default"},
        "type": "Opaque",
        "data": {"client-secret": "c2VjcmV0"},
        "stringData": {"client-id": "0oa1"}
    })
}

/// Sets the value at a JSON pointer, making the objects on the way.
fn set(mut v: Value, ptr: &str, new: Value) -> Value {
    let (parent, last) = ptr.rsplit_once('/').unwrap();
    let target = v.pointer_mut(parent).unwrap_or_else(|| panic!("{parent}"));
    match target {
        Value::Array(a) => a[last.parse::<usize>().unwrap()] = new,
        t => {
            t[last] = new;
        }
    }
    v
}

fn remove(mut v: Value, ptr: &str) -> Value {
    let (parent, last) = ptr.rsplit_once('/').unwrap();
    v.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .unwrap()
        .remove(last);
    v
}

fn assert_valid(crds: &Crds, m: &Value) {
    let problems = crds.validate(m);
    assert!(
        problems.is_empty(),
        "expected no problems in\n{m:#}\ngot:\n{}",
        problems.join("\n")
    );
}

/// Asserts a problem at `ptr` whose message contains `needle`.
fn assert_rejected(crds: &Crds, m: &Value, ptr: &str, needle: &str) {
    let problems = crds.validate(m);
    let name = m["metadata"]["name"].as_str().unwrap_or("<no name>");
    let prefix = format!("{} {name}: {ptr}: ", m["kind"].as_str().unwrap());
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with(&prefix) && p.contains(needle)),
        "expected a problem `{prefix}...{needle}...`, got:\n{}",
        problems.join("\n")
    );
}

#[test]
fn reads_every_crd_and_rule() {
    let Some(crds) = Crds::load() else { return };
    let (kinds, rules) = crds.counts();
    // Eight CRDs, several with more than one version; about a thousand rules.
    assert!(kinds >= 8, "{kinds} versioned kinds");
    assert!(rules >= 500, "{rules} rules");
}

#[test]
fn every_rule_compiles_and_calls_only_known_functions() {
    let Some(crds) = Crds::load() else { return };
    let gaps = crds.rule_coverage();
    assert!(gaps.is_empty(), "{}", gaps.join("\n"));
}

#[test]
fn the_engine_speaks_kubernetes_cel() {
    let cases: &[(&str, Value, bool)] = &[
        ("has(self.x)", json!({}), false),
        ("has(self.x)", json!({"x": 1}), true),
        (
            "!has(self.a) || has(self.a.b)",
            json!({"a": {"b": 1}}),
            true,
        ),
        ("self.size() == 2", json!([1, 2]), true),
        ("size(self) == 3", json!("abc"), true),
        ("duration(self) >= duration('5m')", json!("1m"), false),
        ("duration(self) >= duration('5m')", json!("1h30m"), true),
        ("duration(self) <= duration('1h')", json!("100ms"), true),
        ("self.matches('^https?://[^/]+$')", json!("https://x"), true),
        ("self.matches(r\"\"\"^a+$\"\"\")", json!("b"), false),
        ("int(self) >= 1 && int(self) <= 65535", json!("8080"), true),
        ("self.exists(x, x == 'a')", json!(["b", "a"]), true),
        ("self.all(x, x > 0)", json!([1, 0]), false),
        ("self.exists_one(x, x == 1)", json!([1, 1]), false),
        (
            "[has(self.a), has(self.b)].filter(x, x == true).size() == 1",
            json!({"a": 1, "b": 2}),
            false,
        ),
        (
            "!('*' in self && self.size() > 1)",
            json!(["*", "https://x"]),
            false,
        ),
        (
            "self.kind in ['Gateway', 'HTTPRoute']",
            json!({"kind": "HTTPRoute"}),
            true,
        ),
        (
            "self.all(k, k.split('/')[0].size() < 253)",
            json!({"a/b": "c"}),
            true,
        ),
        (
            "self.all(k, k.size() < 2)",
            json!({"a": 1, "abc": 2}),
            false,
        ),
        (
            "!quantity(string(self)).isLessThan(quantity('16384'))",
            json!(16384),
            true,
        ),
        ("self.__namespace__ == 'x'", json!({"namespace": "x"}), true),
    ];
    for (expr, value, want) in cases {
        assert_eq!(crd::missing_functions(expr), Ok(vec![]), "{expr}");
        assert_eq!(
            crd::eval(expr, value).as_ref(),
            Ok(want),
            "{expr} with self = {value}"
        );
    }
}

#[test]
fn the_coverage_check_sees_missing_functions() {
    // What `every_rule_compiles_and_calls_only_known_functions` relies on.
    assert_eq!(
        crd::missing_functions("self.noSuchFunction() && size(self) > 0"),
        Ok(vec!["noSuchFunction".to_string()])
    );
    assert!(crd::missing_functions("self.(").is_err());
    assert!(crd::eval("self.noSuchFunction()", &json!("x"))
        .is_err_and(|e| e.contains("noSuchFunction")));
}

#[test]
fn accepts_valid_manifests() {
    let Some(crds) = Crds::load() else { return };
    for m in [gateway(), route(), backend(), policy(), secret()] {
        assert_valid(crds, &m);
    }
}

#[test]
fn reads_multi_document_yaml() {
    let Some(crds) = Crds::load() else { return };
    let text = [gateway(), route(), backend(), policy(), secret()]
        .iter()
        .map(|m| format!("---\n{}\n", serde_json::to_string_pretty(m).unwrap()))
        .collect::<String>();
    let problems = crds.validate_yaml(&text);
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let yaml = "\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: agentgateway
spec:
  gatewayClassName: agentgateway
  listeners:
  - name: http
    port: 3000
    protocol: HTTP
---
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: second
spec:
  gatewayClassName: agentgateway
  listeners:
  - name: http
    port: 3000
    protocol: HTTP
    protocol: HTTPS
";
    let problems = crds.validate_yaml(yaml);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("document 3: line 23")
            && problems[0].contains("`protocol` is written twice"),
        "{problems:?}"
    );

    let broken = crds.validate_yaml("kind: Gateway\n  metadata: [\n");
    assert!(
        broken.iter().any(|p| p.starts_with("YAML: line")),
        "{broken:?}"
    );
}

#[test]
fn yaml_scalars_resolve_as_kubectl_reads_them() {
    let (docs, problems) = crd::parse_yaml(
        "a: on\nb: 'on'\nc: 0x1F\nd: 010\ne: 1.5\nf: ~\ng: 1_000\nh: \"3000\"\nyes: 1\n",
    );
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        docs,
        vec![
            json!({"a": true, "b": "on", "c": 31, "d": 8, "e": 1.5, "f": null,
                    "g": 1000, "h": "3000", "true": 1})
        ]
    );
}

#[test]
fn rejects_an_unknown_field() {
    let Some(crds) = Crds::load() else { return };
    let m = set(backend(), "/spec/mcp/targets/0/static/hostname", json!("x"));
    assert_rejected(crds, &m, "/spec/mcp/targets/0/static", "hostname");
    // A field the controller would never see, at the top of the spec too.
    let m = set(gateway(), "/spec/listener", json!([]));
    assert_rejected(crds, &m, "/spec", "listener");
    // An object that declares no fields keeps none.
    let mut m = backend();
    m["spec"] = json!({"dynamicForwardProxy": {"host": "x"}});
    assert_rejected(
        crds,
        &m,
        "/spec/dynamicForwardProxy",
        "'host' was unexpected",
    );
    m["spec"] = json!({"dynamicForwardProxy": {}});
    assert_valid(crds, &m);
}

#[test]
fn rejects_a_wrong_enum() {
    let Some(crds) = Crds::load() else { return };
    let m = set(
        backend(),
        "/spec/mcp/targets/0/static/protocol",
        json!("HTTP"),
    );
    assert_rejected(
        crds,
        &m,
        "/spec/mcp/targets/0/static/protocol",
        "is not one of",
    );
    let m = set(
        route(),
        "/spec/rules/0/matches/0/path/type",
        json!("Prefix"),
    );
    assert_rejected(crds, &m, "/spec/rules/0/matches/0/path/type", "Prefix");
}

#[test]
fn rejects_a_missing_required_field() {
    let Some(crds) = Crds::load() else { return };
    let m = remove(gateway(), "/spec/gatewayClassName");
    assert_rejected(
        crds,
        &m,
        "/spec",
        "\"gatewayClassName\" is a required property",
    );
    let m = remove(
        policy(),
        "/spec/traffic/jwtAuthentication/providers/0/issuer",
    );
    assert_rejected(
        crds,
        &m,
        "/spec/traffic/jwtAuthentication/providers/0",
        "\"issuer\" is a required property",
    );
}

#[test]
fn rejects_mcp_authentication_with_two_providers() {
    let Some(crds) = Crds::load() else { return };
    let mut m = policy();
    let p = m["spec"]["traffic"]["jwtAuthentication"]["providers"][0].clone();
    let mut second = p.clone();
    second["issuer"] = json!("https://other.example.com");
    m["spec"]["traffic"]["jwtAuthentication"]["providers"] = json!([p, second]);
    assert_rejected(
        crds,
        &m,
        "/spec/traffic/jwtAuthentication",
        "jwtAuthentication.mcp requires exactly one provider",
    );
}

#[test]
fn rejects_mcp_authentication_in_optional_mode() {
    let Some(crds) = Crds::load() else { return };
    let m = set(
        policy(),
        "/spec/traffic/jwtAuthentication/mode",
        json!("Optional"),
    );
    assert_rejected(
        crds,
        &m,
        "/spec/traffic/jwtAuthentication",
        "jwtAuthentication.mcp requires mode Strict",
    );
    // Without mcp the same mode is fine, and the default (Strict) satisfies the rule.
    assert_valid(crds, &remove(m, "/spec/traffic/jwtAuthentication/mcp"));
}

#[test]
fn rejects_a_short_jwks_cache_duration() {
    let Some(crds) = Crds::load() else { return };
    let ptr = "/spec/traffic/jwtAuthentication/providers/0/jwks/remote/cacheDuration";
    let m = set(policy(), ptr, json!("1m"));
    assert_rejected(crds, &m, ptr, "cacheDuration must be at least 5m.");
    // The default (5m) is applied before the rules run, as the API server does.
    assert_valid(crds, &remove(policy(), ptr));
    assert_valid(crds, &set(policy(), ptr, json!("1h")));
}

#[test]
fn rejects_a_backend_of_two_kinds() {
    let Some(crds) = Crds::load() else { return };
    let m = set(
        backend(),
        "/spec/static",
        json!({"host": "example.com", "port": 80}),
    );
    assert_rejected(
        crds,
        &m,
        "/spec",
        "exactly one of the fields in [ai static dynamicForwardProxy mcp aws a2a] must be set",
    );
}

#[test]
fn rejects_a_wildcard_origin_beside_others() {
    let Some(crds) = Crds::load() else { return };
    let m = set(
        policy(),
        "/spec/traffic/cors",
        json!({"allowOrigins": ["*", "https://x"]}),
    );
    assert_rejected(
        crds,
        &m,
        "/spec/traffic/cors/allowOrigins",
        "AllowOrigins cannot contain '*' alongside other origins",
    );
    let ok = set(
        policy(),
        "/spec/traffic/cors",
        json!({"allowOrigins": ["https://x", "https://y"]}),
    );
    assert_valid(crds, &ok);
}

#[test]
fn rejects_what_gateway_api_rules_forbid() {
    let Some(crds) = Crds::load() else { return };
    let mut m = gateway();
    m["spec"]["listeners"] = json!([
        {"name": "http", "port": 3000, "protocol": "HTTP"},
        {"name": "http", "port": 3001, "protocol": "HTTP"}
    ]);
    // Both the list-map key check and the CEL rule see the duplicate name.
    assert_rejected(crds, &m, "/spec/listeners/1", "duplicate entry");
    assert_rejected(crds, &m, "/spec/listeners", "Listener name must be unique");

    let m = set(route(), "/spec/rules/0/matches/0/path/value", json!("mcp"));
    assert_rejected(
        crds,
        &m,
        "/spec/rules/0/matches/0/path",
        "value must be an absolute path and start with '/'",
    );
}

#[test]
fn checks_metadata_and_kinds() {
    let Some(crds) = Crds::load() else { return };
    let m = set(gateway(), "/metadata/name", json!("Agent_Gateway"));
    assert_rejected(crds, &m, "/metadata/name", "DNS-1123 subdomain");
    let m = set(gateway(), "/metadata/labels", json!({"app": 1}));
    assert_rejected(crds, &m, "/metadata/labels/app", "must be strings");

    let m = set(
        gateway(),
        "/apiVersion",
        json!("gateway.networking.k8s.io/v2"),
    );
    assert_rejected(crds, &m, "/apiVersion", "has no version v2");
    let m = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}});
    assert_rejected(crds, &m, "/apiVersion", "no CustomResourceDefinition");
}

#[test]
fn checks_core_kinds() {
    let Some(crds) = Crds::load() else { return };
    let m = set(secret(), "/data/client-secret", json!("not base64!"));
    assert_rejected(crds, &m, "/data/client-secret", "not valid base64");
    let m = set(secret(), "/stringData/client-id", json!(42));
    assert_rejected(crds, &m, "/stringData/client-id", "must be strings");
    let m = set(secret(), "/type", json!("kubernetes.io/tls"));
    assert_rejected(crds, &m, "/data", "needs the key tls.crt");
    let m = set(secret(), "/spec", json!({}));
    assert_rejected(crds, &m, "/spec", "unknown field");

    let service = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "mcp"},
        "spec": {"selector": {"app": "mcp"}, "ports": [{"port": 80, "targetPort": 8080}]}
    });
    assert_valid(crds, &service);
    assert_rejected(
        crds,
        &remove(service, "/spec/ports"),
        "/spec/ports",
        "at least one port",
    );

    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "mcp"},
        "spec": {
            "selector": {"matchLabels": {"app": "mcp"}},
            "template": {
                "metadata": {"labels": {"app": "mcp"}},
                "spec": {"containers": [{"name": "mcp", "image": "mcp:1"}]}
            }
        }
    });
    assert_valid(crds, &deployment);
    let m = set(
        deployment,
        "/spec/template/metadata/labels",
        json!({"app": "other"}),
    );
    assert_rejected(crds, &m, "/spec/template/metadata/labels", "does not match");

    let config_map = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "config"},
        "data": {"config.yaml": "binds: []"}
    });
    assert_valid(crds, &config_map);
}
