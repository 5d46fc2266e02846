//! `agw verify-token` (through `config::routing::select`) and `agw serve` (through the runtime's
//! per-port tables) must pick the same route for every request: a generated matrix of hosts,
//! paths, methods and headers is driven through both, on files with several listeners of one
//! port, hostnames, wildcards and the `mcp:` shorthand.

use agw::config::routing::{self, Request, Selected};
use agw::config::Config;
use agw::serve::runtime::Runtime;
use serde_json::json;

fn config(v: serde_json::Value) -> Config {
    let mut c: Config = serde_json::from_value(v).expect("a valid model");
    c.apply_implicit_default_gateway();
    c
}

fn route(name: &str, matches: serde_json::Value) -> serde_json::Value {
    json!({"name": name, "matches": matches, "backends": [{"host": "upstream.internal:8080"}]})
}

const HOSTS: [&str; 8] = [
    "api.example.test",
    "empty.example.test",
    "API.Example.Test:3000",
    "x.example.test",
    "deep.x.example.test",
    "other.test",
    "[::1]:3000",
    "127.0.0.1:3000",
];
const PATHS: [&str; 7] = [
    "/mcp",
    "/mcp/x",
    "/mcpx",
    "/.well-known/oauth-protected-resource/mcp",
    "/a1",
    "/sse",
    "/",
];
const METHODS: [&str; 2] = ["GET", "POST"];

fn same_route_everywhere(cfg: &Config, port: u16) -> usize {
    let rt = Runtime::build(cfg, 1, std::path::Path::new(".")).expect("the runtime builds");
    let headers = [vec![], vec![("x-tenant".to_string(), "acme".to_string())]];
    let mut compared = 0;
    let mut differ = Vec::new();
    for host in HOSTS {
        for path in PATHS {
            for method in METHODS {
                for h in &headers {
                    let req = Request {
                        host: Some(host),
                        path,
                        method,
                        headers: h,
                        query: &[],
                    };
                    let served = rt.select(port, &req).map(|(r, _)| r.ptr.clone());
                    let judged = routing::select(cfg, &req).map(|s| match s {
                        Selected::Route(r) => r.ptr.clone(),
                        Selected::Shorthand(_) => "/mcp".to_string(),
                    });
                    compared += 1;
                    if served != judged {
                        differ.push(format!(
                            "{method} {host}{path} {h:?}: serve {served:?}, verify-token {judged:?}"
                        ));
                    }
                }
            }
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    compared
}

#[test]
fn binds_with_hostnames_pick_the_same_route_in_serve_and_verify_token() {
    let cfg = config(json!({"binds": [{"port": 3000, "listeners": [
        {"name": "plain", "routes": [
            route("exact", json!([{"path": {"exact": "/mcp"}}])),
            route("regex", json!([{"path": {"regex": "/a[0-9]"}}])),
            route("alternation", json!([{"path": {"regex": "/ss|/sse"}}])),
        ]},
        {"name": "api", "hostname": "api.example.test", "routes": [
            route("prefix", json!([{"path": {"pathPrefix": "/mcp"}}])),
            route("tenant", json!([{"path": {"pathPrefix": "/mcp"}, "headers": [{"name": "x-tenant", "value": {"exact": "acme"}}]}])),
            route("post", json!([{"path": {"pathPrefix": "/"}, "method": "POST"}])),
        ]},
        {"name": "empty", "hostname": "empty.example.test", "routes": []},
        {"name": "wild", "hostname": "*.example.test", "routes": [
            route("wild-root", json!([{"path": {"pathPrefix": "/"}}])),
        ]},
    ]}]}));
    assert!(same_route_everywhere(&cfg, 3000) > 100);
}

#[test]
fn gateways_routes_and_the_shorthand_pick_the_same_route_in_serve_and_verify_token() {
    let cfg = config(json!({
        "gateways": {"default": {"port": 3000, "listeners": [
            {"name": "public", "protocol": "HTTP"},
            {"name": "api", "hostname": "api.example.test", "protocol": "HTTP"},
        ]}},
        "routes": [
            route("everywhere", json!([{"path": {"pathPrefix": "/mcp"}}])),
            {"name": "api-only", "gateways": "default/api", "matches": [{"path": {"exact": "/mcp"}}], "backends": [{"host": "upstream.internal:8080"}]},
            {"name": "by-host", "hostnames": ["x.example.test"], "matches": [{"path": {"pathPrefix": "/"}}], "backends": [{"host": "upstream.internal:8080"}]},
        ],
        "mcp": {"targets": [{"name": "everything", "stdio": {"cmd": "npx", "args": ["-y", "@modelcontextprotocol/server-everything"]}}]}
    }));
    assert!(same_route_everywhere(&cfg, 3000) > 100);
}
